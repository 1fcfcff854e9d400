import {mkdirSync} from 'node:fs';
import {selectComposition} from '@remotion/renderer';
import type {ClipDescriptor} from '../clip/clip-descriptor.js';
import {FateZeroError} from '../errors/fatezero-error.js';
import {resolveCacheDir} from '../frame-cache/resolve-cache-dir.js';
import {JobQueue} from '../jobs/job-queue.js';
import type {OnJobProgress} from '../jobs/job-progress.js';
import type {ClipJobResult} from '../jobs/run-clip-job.js';
import {COLLECT_PROP, JOBS_PROP} from '../remotion/collect-protocol.js';
import {resolveBrowserExecutable} from './browser-executable.js';
import {bundleProject} from './bundle-project.js';

export type PrerenderOptions = {
	/** Remotion entry file (registerRoot). */
	entryPoint: string;
	compositionId: string;
	inputProps?: Record<string, unknown>;
	/** Default FATEZERO_CACHE_DIR or ./cache; it is also the bundle's public dir. */
	cacheDir?: string;
	/** Relative clip sources and models resolve against it. Default: the working directory. */
	projectRoot?: string;
	/** A bundle made earlier (its public dir must be this cache, symlinked). */
	serveUrl?: string;
	browserExecutable?: string | null;
	/** Jobs queue on this queue (batches share one); default: a new queue, closed at the end. */
	queue?: JobQueue;
	onProgress?: OnJobProgress;
	signal?: AbortSignal;
};

export type PrerenderResult = {serveUrl: string; cacheDir: string; clips: ClipJobResult[]};

/** The clip descriptors a composition needs, found by selectComposition() in discovery mode (no frames rendered). */
export const discoverClips = async (options: {serveUrl: string; compositionId: string; inputProps: Record<string, unknown>; browserExecutable: string | null}): Promise<ClipDescriptor[]> => {
	const composition = await selectComposition({
		serveUrl: options.serveUrl,
		id: options.compositionId,
		inputProps: {...options.inputProps, [COLLECT_PROP]: true},
		browserExecutable: options.browserExecutable,
		logLevel: 'error',
	});
	const jobs = (composition.props as Record<string, unknown>)[JOBS_PROP];
	if (!Array.isArray(jobs)) {
		throw new FateZeroError(
			'INVALID_INPUT',
			`Composition "${options.compositionId}" did not report its FateZero clips: give it \`calculateMetadata={fateZeroMetadata()}\` (from remotion-fatezero) so prerender can discover them.`,
		);
	}
	return jobs as ClipDescriptor[];
};

/**
 * Pre-render step (design §1 flow 1): bundle, discover the composition's clips, run the missing
 * jobs through the queue (cache hits cost nothing), so a render finds every clip cached.
 */
export const prerender = async (options: PrerenderOptions): Promise<PrerenderResult> => {
	const cacheDir = resolveCacheDir(options.cacheDir);
	mkdirSync(cacheDir, {recursive: true});
	const browserExecutable = resolveBrowserExecutable(options.browserExecutable);
	const serveUrl = options.serveUrl ?? (await bundleProject(options.entryPoint, cacheDir));
	const descriptors = await discoverClips({serveUrl, compositionId: options.compositionId, inputProps: options.inputProps ?? {}, browserExecutable});
	const queue = options.queue ?? new JobQueue({cacheDir, projectRoot: options.projectRoot, onProgress: options.onProgress});
	try {
		const clips = await Promise.all(descriptors.map((descriptor) => queue.add(descriptor, {signal: options.signal})));
		return {serveUrl, cacheDir, clips};
	} finally {
		if (!options.queue) await queue.close();
	}
};
