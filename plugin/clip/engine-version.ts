/**
 * The version of everything that turns a clip descriptor into pixels (importer, inversion, fusion,
 * decoding). It is hashed into the descriptor key and every content key and written into every
 * manifest, so bumping it makes all caches miss instead of serving frames an older engine made.
 * Bump it whenever a change alters output pixels for an unchanged descriptor.
 */
// 2: the inversion and edit keys name the engine run (resolved chunk size, compute type, execution
// provider, attention source): under /1 one key could name several results. Migration: every key
// changed, so /1 entries are never read again and each clip is recomputed once on first use;
// `fatezero cache gc` removes the old entries once unused for --keep-days (30; 0 removes them now).
export const ENGINE_VERSION = 'remotion-fatezero-engine/2';
