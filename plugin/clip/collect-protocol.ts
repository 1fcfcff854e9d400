/**
 * How the Node side discovers the clips a composition needs without rendering frames (design §6):
 * it calls selectComposition() with COLLECT_PROP set in the input props; the metadata helper then
 * returns every clip descriptor it found under JOBS_PROP instead of failing on a cache miss.
 */
export const COLLECT_PROP = '__fatezeroCollect';
export const JOBS_PROP = '__fatezeroJobs';

/** The command that fills the cache, for cache-miss errors. */
let entryPointHint: string | null = null;

/** Tells cache-miss errors which entry file to name (e.g. `setFateZeroEntryPoint('remotion/index.ts')` in your Root). */
export const setFateZeroEntryPoint = (entryPoint: string): void => {
	entryPointHint = entryPoint;
};

export const prerenderCommand = (compositionId: string): string =>
	`npx fatezero prerender ${entryPointHint ?? '<your entry file, e.g. src/index.ts>'} ${compositionId}`;
