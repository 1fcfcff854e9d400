// Browser-safe entry (`remotion-fatezero`): nothing here may import a `node:` module or
// onnxruntime-node, because compositions import it into the Remotion bundle.
export {FateZeroError, isFateZeroError} from './errors/index.js';
export type {FateZeroErrorCode} from './errors/index.js';
export {ATTENTION_PRESETS, referenceFrameTable} from './fatezero/reference-frames.js';
export type {AttentionPreset, ReferenceFrameSpec} from './fatezero/reference-frames.js';
export {ClipTokenizer, DdimScheduler, SD1_SCHEDULER_CONFIG} from './diffusion/index.js';
export type {ClipEncoding, ClipTokenizerInit} from './diffusion/index.js';
