import {rmSync} from 'node:fs';
import {selectComposition} from '@remotion/renderer';
import type {ClipDescriptor} from '../clip/clip-descriptor.js';
import {FateZeroError} from '../errors/fatezero-error.js';
import {JobQueue} from '../jobs/job-queue.js';
import type {OnJobProgress} from '../jobs/job-progress.js';
import type {ClipJobResult} from '../jobs/run-clip-job.js';
import {resolveProjectSettings, type ProjectSettings} from '../project/project-settings.js';
import {NO_MODEL_ADVICE} from '../project/resolve-model.js';
import {COLLECT_PROP, JOBS_PROP} from '../clip/collect-protocol.js';
import {resolveBrowserExecutable} from './browser-executable.js';
import {bundleProject} from './bundle-project.js';
import {loadRemotionProject, type RemotionProject} from './remotion-project.js';

export type PrerenderOptions = {
	/** Remotion entry file (registerRoot), relative to the project root. */
	entryPoint: string;
	compositionId: string;
	inputProps?: Record<string, unknown>;
	/** FateZero's settings (model, provider, store, public dir …). Default: resolveProjectSettings() of projectRoot. */
	settings?: ProjectSettings;
	/** The Remotion project (where remotion.config.ts and package.json are). Default: the working directory. */
	projectRoot?: string;
	/** Overrides the store folder of the settings. */
	cacheDir?: string;
	/** The project's Remotion config as loaded already (loadRemotionProject). */
	project?: RemotionProject;
	/** A bundle made earlier with this project's public dir symlinked (bundleProject); kept. */
	serveUrl?: string;
	browserExecutable?: string | null;
	/** Jobs queue on this queue (batches share one; a QueueCoordinator sends them to remote workers); default: a new queue, closed at the end. */
	queue?: Pick<JobQueue, 'add' | 'close'>;
	onProgress?: OnJobProgress;
	signal?: AbortSignal;
};

export type PrerenderResult = {cacheDir: string; publicDir: string; clips: ClipJobResult[]; settings: ProjectSettings; project: RemotionProject};

/** Settings from options: explicit settings, else the project's, with `cacheDir` as an override. */
export const settingsFrom = (options: {settings?: ProjectSettings; projectRoot?: string; cacheDir?: string}): ProjectSettings =>
	options.settings ?? resolveProjectSettings({projectRoot: options.projectRoot, flags: options.cacheDir === undefined ? {} : {cacheDir: options.cacheDir}});

/** A job queue that runs with these settings and publishes into this project's public dir. */
export const queueFor = (settings: ProjectSettings, project: RemotionProject, onProgress?: OnJobProgress): JobQueue =>
	new JobQueue({
		cacheDir: settings.cacheDir.value,
		projectRoot: settings.projectRoot,
		model: settings.model,
		executionProvider: settings.executionProvider.value,
		computeType: settings.computeType.value,
		threads: settings.threads.value,
		publicDir: project.publicDir.value,
		onProgress,
	});

/** The clip descriptors a composition needs, found by selectComposition() in discovery mode (no frames rendered). */
export const discoverClips = async (options: {serveUrl: string; compositionId: string; inputProps: Record<string, unknown>; browserExecutable: string | null; envVariables?: Record<string, string>}): Promise<ClipDescriptor[]> => {
	const composition = await selectComposition({
		serveUrl: options.serveUrl,
		id: options.compositionId,
		inputProps: {...options.inputProps, [COLLECT_PROP]: true},
		browserExecutable: options.browserExecutable,
		envVariables: options.envVariables,
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

/** Refuses, before any write, clips that would need a model when none is configured. */
export const assertModelFor = (descriptors: readonly ClipDescriptor[], settings: ProjectSettings): void => {
	const unnamed = descriptors.filter((d) => d.model === null || d.model === undefined);
	if (unnamed.length > 0 && settings.model.value === null) {
		const names = unnamed.slice(0, 3).map((d) => `"${d.label ?? d.prompt}"`).join(', ');
		throw new FateZeroError('MODEL_NOT_CONFIGURED', `No model is configured for ${unnamed.length === 1 ? 'clip' : `${unnamed.length} clips, e.g.`} ${names}; nothing was computed or written.\n${NO_MODEL_ADVICE}`);
	}
};

/**
 * Pre-render step (design §1 flow 1): bundle as `npx remotion` would, discover the composition's
 * clips, run the missing jobs (cache hits cost nothing) and publish every clip into the public
 * dir's fatezero/ subfolder, so a plain `npx remotion render|studio` finds them all.
 */
export const prerender = async (options: PrerenderOptions): Promise<PrerenderResult> => {
	const settings = settingsFrom(options);
	const project = options.project ?? (await loadRemotionProject(settings));
	const browserExecutable = resolveBrowserExecutable(options.browserExecutable ?? project.browserExecutable);
	const serveUrl = options.serveUrl ?? (await bundleProject(options.entryPoint, project));
	let descriptors: ClipDescriptor[];
	try {
		descriptors = await discoverClips({serveUrl, compositionId: options.compositionId, inputProps: options.inputProps ?? {}, browserExecutable, envVariables: project.envVariables});
	} finally {
		// only discovery reads this bundle; a render bundles again (or got its own serveUrl)
		if (!options.serveUrl) rmSync(serveUrl, {recursive: true, force: true});
	}
	assertModelFor(descriptors, settings);
	const queue = options.queue ?? queueFor(settings, project, options.onProgress);
	try {
		const clips = await Promise.all(descriptors.map((descriptor) => queue.add(descriptor, {signal: options.signal})));
		return {cacheDir: settings.cacheDir.value, publicDir: project.publicDir.value, clips, settings, project};
	} finally {
		if (!options.queue) await queue.close();
	}
};
