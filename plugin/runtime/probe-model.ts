/**
 * The provider probe's model, y = x + x on float32[2], as ONNX bytes in base64. A constant (not
 * built with plugin/graph) so the runtime stays below the graph layer; test/runtime/probe-model.test.ts
 * checks it still equals what GraphBuilder builds.
 */
export const PROBE_MODEL_BASE64 = 'CAgSEXJlbW90aW9uLWZhdGV6ZXJvOncKHQoBeAoBeBIHQWRkXzA6MBoFQWRkXzAiA0FkZDoACiQKB0FkZF8wOjASAXkaCklkZW50aXR5XzEiCElkZW50aXR5OgASDnByb3ZpZGVyX3Byb2JlWg8KAXgSCgoICAESBAoCCAJiDwoBeRIKCggIARIECgIIAkIECgAQEQ==';
