/**
 * The version of everything that turns a clip descriptor into pixels (importer, inversion, fusion,
 * decoding). It is hashed into the descriptor key and every content key and written into every
 * manifest, so bumping it makes all caches miss instead of serving frames an older engine made.
 * Bump it whenever a change alters output pixels for an unchanged descriptor.
 */
export const ENGINE_VERSION = 'remotion-fatezero-engine/1';
