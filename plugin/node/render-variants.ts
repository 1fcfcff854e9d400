import {mkdirSync, rmSync, statSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {makeCancelSignal, openBrowser, renderMedia, RenderInternals, selectComposition} from '@remotion/renderer';
import type {ClipDescriptor} from '../clip/clip-descriptor.js';
import {FateZeroError} from '../errors/fatezero-error.js';
import type {GetOrComputeStatus} from '../frame-cache/compute-once.js';
import type {JobQueue} from '../jobs/job-queue.js';
import type {OnJobProgress} from '../jobs/job-progress.js';
import type {ProjectSettings} from '../project/project-settings.js';
import type {ClipJobResult} from '../jobs/run-clip-job.js';
import {COLLECT_PROP, JOBS_PROP} from '../clip/collect-protocol.js';
import {findClipDescriptors} from '../clip/find-clip-descriptors.js';
import {resolveBrowserExecutable} from './browser-executable.js';
import {bundleProject} from './bundle-project.js';
import {assertModelFor, queueFor, settingsFrom} from './prerender.js';
import {loadRemotionProject, type RemotionProject} from './remotion-project.js';
import {parseVariants, type RenderVariant} from './parse-variants.js';
import {renderMediaOptions, validateRenderOptions, type RenderMediaSettings} from './render-options.js';

export {parseVariants, readVariantsFile, type RenderVariant} from './parse-variants.js';
export {validateRenderOptions, type RenderMediaSettings} from './render-options.js';

export type VariantStatus = 'rendered' | 'failed' | 'skipped';

/** Where one variant is, for bars and `--json` event streams. */
export type VariantProgress = {
	variant: string;
	/** queued: its clips are in the job queue; rendering: frames (step/total); then one of the final states. */
	stage: 'queued' | 'rendering' | VariantStatus;
	step: number;
	total: number;
	/** Seconds left in this stage from the pace so far; null before a pace exists. */
	etaSeconds: number | null;
	output?: string;
	error?: string;
};

/** One row of the final table and of `<out-dir>/manifest.json`. */
export type VariantResult = {
	variant: string;
	/** Absolute path of the output (written only when status is 'rendered'). */
	output: string;
	/** The output's name inside the out dir. */
	file: string;
	status: VariantStatus;
	/** Edited clips found in the cache before this batch, or computed for an earlier variant of it. */
	cacheHits: number;
	/** Edited clips this batch had to compute (or waited for another process to compute). */
	cacheMisses: number;
	clips: {key: string; label: string | null; status: GetOrComputeStatus | 'hit-in-batch'; inversion: GetOrComputeStatus | 'skipped'}[];
	/** Its own jobs: from when the jobs queued ahead of them were done until its clips were ready. */
	jobsMs: number;
	renderMs: number;
	/** jobsMs + renderMs. */
	timeMs: number;
	error: string | null;
};

/**
 * One object: where and what to render, plus the Remotion render settings applied to every
 * variant's renderMedia() (RenderMediaSettings: codec, crf, scale, frameRange, everyNthFrame,
 * timeoutInMilliseconds, logLevel, jpegQuality, pixelFormat, imageFormat, muted, audioCodec),
 * all checked before any work.
 */
export type RenderVariantsOptions = RenderMediaSettings & {
	/** Remotion entry file (registerRoot). */
	entryPoint: string;
	compositionId: string;
	/** `[{name, props}]` or `{variants: [...]}`; validated as a whole before anything runs. */
	variants: unknown;
	/** Outputs go to `<outDir>/<name>.<ext>`, plus manifest.json. */
	outDir: string;
	/** Props for every variant, applied before each variant's own props (`--props`). */
	inputProps?: Record<string, unknown>;
	/** FateZero's settings (model, provider, store, public dir …). Default: resolveProjectSettings() of projectRoot. */
	settings?: ProjectSettings;
	/** Overrides the store folder of the settings. */
	cacheDir?: string;
	/** The Remotion project (remotion.config.ts, package.json); relative clip sources resolve against it. Default: the working directory. */
	projectRoot?: string;
	/** The project's Remotion config as loaded already (loadRemotionProject). */
	project?: RemotionProject;
	/** A bundle made earlier with the project's public dir symlinked (bundleProject); default: bundle here. */
	serveUrl?: string;
	browserExecutable?: string | null;
	/** Frames rendered in parallel per render (Remotion's --concurrency): a number or a share such as "50%". */
	concurrency?: number | string | null;
	/** Stop at the first failed variant (the rest are 'skipped'); default: render the others and report. */
	failFast?: boolean;
	/**
	 * Jobs go on this queue (shared with other work; a QueueCoordinator sends them to remote workers,
	 * and its onProgress reports them); the caller closes it. Default: a new local queue for the
	 * batch, closed at the end.
	 */
	queue?: ClipQueue;
	/** Clip-job progress (the same events as prerender). */
	onProgress?: OnJobProgress;
	onVariantProgress?: (event: VariantProgress) => void;
	/** Bundling progress in percent. */
	onBundleProgress?: (percent: number) => void;
	signal?: AbortSignal;
	/** Label of the variants in error messages (the file name). Default "variants". */
	variantsOrigin?: string;
};

export type RenderVariantsResult = {
	cacheDir: string;
	outDir: string;
	manifestPath: string;
	variants: VariantResult[];
	/** Every variant rendered. */
	ok: boolean;
};

/** What the batch needs of a queue: JobQueue (this machine) or QueueCoordinator (remote workers). */
export type ClipQueue = Pick<JobQueue, 'add' | 'close'>;

type Planned = RenderVariant & {inputProps: Record<string, unknown>; descriptors: ClipDescriptor[]; output: string};

// Errors thrown in the page arrive as "Error: Error: …" strings: one prefix is enough.
const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error)).replace(/^(Error: )+/, '');

/**
 * Validates every variant before any work: its props must be an object and, merged over the
 * composition's default props as Remotion merges input props (shallow), hold only valid clip
 * descriptors; then selectComposition() in discovery mode lists the clips each variant needs
 * (props and clips declared in code). Every problem of every variant is reported at once.
 */
const planVariants = async (options: {
	serveUrl: string;
	compositionId: string;
	variants: RenderVariant[];
	inputProps: Record<string, unknown>;
	outDir: string;
	extension: string;
	select: (inputProps: Record<string, unknown>) => ReturnType<typeof selectComposition>;
	origin: string;
}): Promise<Planned[]> => {
	let defaultProps: Record<string, unknown>;
	try {
		defaultProps = (await options.select({[COLLECT_PROP]: true})).defaultProps;
	} catch (error) {
		throw new FateZeroError('INVALID_OPTION', `Could not load composition "${options.compositionId}": ${errorText(error)}. Check the composition id and that the entry registers it.`, {cause: error});
	}
	const problems: string[] = [];
	const planned: Planned[] = [];
	for (const variant of options.variants) {
		const inputProps = {...options.inputProps, ...variant.props};
		try {
			findClipDescriptors({...defaultProps, ...inputProps});
		} catch (error) {
			problems.push(`variant "${variant.name}": ${errorText(error)}`);
			continue;
		}
		let jobs: unknown;
		try {
			jobs = ((await options.select({...inputProps, [COLLECT_PROP]: true})).props as Record<string, unknown>)[JOBS_PROP];
		} catch (error) {
			problems.push(`variant "${variant.name}": the composition rejected its props: ${errorText(error)}`);
			continue;
		}
		if (!Array.isArray(jobs)) {
			throw new FateZeroError(
				'INVALID_INPUT',
				`Composition "${options.compositionId}" did not report its FateZero clips: give it \`calculateMetadata={fateZeroMetadata()}\` (from remotion-fatezero) so its variants' clips can be discovered.`,
			);
		}
		planned.push({...variant, inputProps, descriptors: jobs as ClipDescriptor[], output: path.join(options.outDir, `${variant.name}.${options.extension}`)});
	}
	if (problems.length > 0) {
		throw new FateZeroError('INVALID_INPUT', `${options.origin}: ${problems.length} of ${options.variants.length} variants are invalid; nothing was computed or rendered. Fix:\n  - ${problems.join('\n  - ')}`);
	}
	return planned;
};

const etaFrom = (started: number, step: number, total: number): number | null => (step > 0 && total > step ? ((performance.now() - started) / 1000 / step) * (total - step) : null);

/**
 * Renders one composition once per variant (design: batches). Every variant is validated and its
 * clips discovered before any engine job starts; the project is bundled once; all clip jobs go on
 * one queue (a JobQueue on this device, or a QueueCoordinator for remote workers), so variants of
 * one source and source prompt share a single inversion through the cache (or the shared store).
 * Each variant renders here as soon as its own clips are ready, one render at a time, while later
 * variants' jobs keep the engines busy. Writes `<outDir>/manifest.json`.
 */
export const renderVariants = async (options: RenderVariantsOptions): Promise<RenderVariantsResult> => {
	const origin = options.variantsOrigin ?? 'variants';
	const variants = parseVariants(options.variants, origin);
	validateRenderOptions(options);
	const render = renderMediaOptions(options);
	const outDir = path.resolve(options.outDir);
	try {
		mkdirSync(outDir, {recursive: true});
	} catch (error) {
		throw new FateZeroError('INVALID_OPTION', `--out-dir ${outDir} cannot be created (${errorText(error)}). Pass a writable folder.`, {cause: error});
	}
	if (!statSync(outDir).isDirectory()) throw new FateZeroError('INVALID_OPTION', `--out-dir ${outDir} is a file. Pass a folder.`);
	const {codec} = render;
	const extension = RenderInternals.getFileExtensionFromCodec(codec, render.audioCodec);
	const settings = settingsFrom(options);
	const cacheDir = settings.cacheDir.value;
	const project = options.project ?? (await loadRemotionProject(settings));
	// The bundle symlinks the public dir: it must exist before bundling, or clips published later 404.
	mkdirSync(project.publicDir.value, {recursive: true});
	const browserExecutable = resolveBrowserExecutable(options.browserExecutable ?? project.browserExecutable);
	const serveUrl = options.serveUrl ?? (await bundleProject(options.entryPoint, project, options.onBundleProgress));
	// A bundle made here is removed at the end (about 30 MB in the temp dir per batch otherwise);
	// its public dir is a symlink, which rm unlinks without entering, so the cache stays.
	const removeOwnBundle = () => {
		if (!options.serveUrl) rmSync(serveUrl, {recursive: true, force: true});
	};
	let browser: Awaited<ReturnType<typeof openBrowser>>;
	try {
		browser = await openBrowser('chrome', {browserExecutable, logLevel: 'error'});
	} catch (error) {
		removeOwnBundle();
		throw error;
	}
	const select = (inputProps: Record<string, unknown>) =>
		selectComposition({serveUrl, id: options.compositionId, inputProps, puppeteerInstance: browser, browserExecutable, envVariables: project.envVariables, timeoutInMilliseconds: render.timeoutInMilliseconds, logLevel: 'error'});

	const stop = new AbortController();
	const onOuterAbort = () => stop.abort(options.signal?.reason ?? new FateZeroError('ABORTED', 'Cancelled.'));
	options.signal?.addEventListener('abort', onOuterAbort, {once: true});
	let queue: ClipQueue | null = null;
	try {
		const planned = await planVariants({serveUrl, compositionId: options.compositionId, variants, inputProps: options.inputProps ?? {}, outDir, extension, select, origin});
		if (options.signal?.aborted) throw options.signal.reason;
		assertModelFor(planned.flatMap((variant) => variant.descriptors), settings);

		queue = options.queue ?? queueFor(settings, project, options.onProgress);
		const jobQueue = queue;
		const started = performance.now();
		// A stop (--fail-fast, or the caller's signal) also cancels the render in progress.
		const cancelRenders = new Set<() => void>();
		stop.signal.addEventListener('abort', () => cancelRenders.forEach((cancel) => cancel()), {once: true});
		let stoppedBy: string | null = null;
		const emit = (event: VariantProgress) => options.onVariantProgress?.(event);

		// Queue every variant's jobs now, in variant order, so the engine never idles between variants.
		const clipJobs = planned.map((variant) => {
			emit({variant: variant.name, stage: 'queued', step: 0, total: variant.descriptors.length, etaSeconds: null});
			const settled = Promise.all(variant.descriptors.map((descriptor) => jobQueue.add(descriptor, {signal: stop.signal})));
			const settledAt = settled.then(
				() => performance.now(),
				() => performance.now(),
			);
			return {settled, settledAt};
		});

		// Renders one at a time (each already uses `concurrency` tabs), in the order their clips are ready.
		let renderTail: Promise<void> = Promise.resolve();
		const inRenderTurn = async <T>(work: () => Promise<T>): Promise<T> => {
			const previous = renderTail;
			let release!: () => void;
			renderTail = new Promise((resolve) => (release = resolve));
			await previous;
			try {
				return await work();
			} finally {
				release();
			}
		};

		const runVariant = async (variant: Planned, index: number): Promise<{clips: ClipJobResult[]; renderMs: number; error: string | null; status: VariantStatus}> => {
			let clips: ClipJobResult[] = [];
			try {
				clips = await clipJobs[index].settled;
				const renderMs = await inRenderTurn(async () => {
					if (stop.signal.aborted) throw stop.signal.reason;
					const renderStarted = performance.now();
					const composition = await select(variant.inputProps);
					const {cancelSignal, cancel} = makeCancelSignal();
					cancelRenders.add(cancel);
					let lastFrame = -1;
					// the frames this render draws (--frames, --every-nth-frame): Remotion tells at the start
					let total: number | null = null;
					const progress = (step: number, frames: number) => {
						lastFrame = step;
						emit({variant: variant.name, stage: 'rendering', step, total: frames, etaSeconds: etaFrom(renderStarted, step, frames)});
					};
					try {
						await renderMedia({
							...render,
							composition,
							serveUrl,
							outputLocation: variant.output,
							inputProps: variant.inputProps,
							puppeteerInstance: browser,
							browserExecutable,
							envVariables: project.envVariables,
							concurrency: options.concurrency ?? null,
							overwrite: true,
							cancelSignal,
							onStart: ({frameCount}) => {
								total = frameCount;
								progress(0, frameCount);
							},
							onProgress: ({renderedFrames}) => {
								if (total !== null && renderedFrames !== lastFrame) progress(renderedFrames, total);
							},
						});
					} finally {
						cancelRenders.delete(cancel);
					}
					return performance.now() - renderStarted;
				});
				emit({variant: variant.name, stage: 'rendered', step: 1, total: 1, etaSeconds: 0, output: variant.output});
				return {clips, renderMs, error: null, status: 'rendered'};
			} catch (error) {
				// Only rendered variants have an output: no half-written file, nor one left from an earlier run.
				rmSync(variant.output, {force: true});
				// After a fail-fast stop, what the stop interrupted is skipped, not failed.
				const status: VariantStatus = stoppedBy !== null ? 'skipped' : 'failed';
				const message = status === 'skipped' ? `not rendered: --fail-fast stopped the batch after variant "${stoppedBy}" failed` : errorText(error);
				if (status === 'failed' && options.failFast) {
					stoppedBy = variant.name;
					stop.abort(new FateZeroError('ABORTED', `Stopped by --fail-fast after variant "${variant.name}" failed.`));
				}
				if (options.signal?.aborted && status === 'failed') {
					emit({variant: variant.name, stage: 'skipped', step: 0, total: 1, etaSeconds: null, error: 'cancelled'});
					return {clips, renderMs: 0, error: 'cancelled', status: 'skipped'};
				}
				emit({variant: variant.name, stage: status, step: 0, total: 1, etaSeconds: null, error: message});
				return {clips, renderMs: 0, error: message, status};
			}
		};

		const outcomes = await Promise.all(planned.map(runVariant));
		const settledAt = await Promise.all(clipJobs.map((job) => job.settledAt));
		if (options.signal?.aborted) throw options.signal.reason;

		// Hits and misses in variant order: a clip computed for an earlier variant is a hit for later ones.
		const computedInBatch = new Set<string>();
		const rows: VariantResult[] = planned.map((variant, i) => {
			const outcome = outcomes[i];
			const clips = outcome.clips.map((clip) => {
				const earlier = computedInBatch.has(clip.key);
				if (clip.status !== 'hit') computedInBatch.add(clip.key);
				return {key: clip.key, label: clip.descriptor.label ?? null, status: clip.status !== 'hit' && earlier ? ('hit-in-batch' as const) : clip.status, inversion: clip.statuses.inversion};
			});
			const turn = Math.max(started, ...settledAt.slice(0, i));
			const jobsMs = Math.round(Math.max(0, settledAt[i] - turn));
			const renderMs = Math.round(outcome.renderMs);
			return {
				variant: variant.name,
				output: variant.output,
				file: path.basename(variant.output),
				status: outcome.status,
				cacheHits: clips.filter((c) => c.status === 'hit' || c.status === 'hit-in-batch').length,
				cacheMisses: clips.filter((c) => c.status === 'computed' || c.status === 'joined').length,
				clips,
				jobsMs,
				renderMs,
				timeMs: jobsMs + renderMs,
				error: outcome.error,
			};
		});
		const manifestPath = path.join(outDir, 'manifest.json');
		writeFileSync(
			manifestPath,
			`${JSON.stringify({entryPoint: options.entryPoint, compositionId: options.compositionId, codec, createdAt: new Date().toISOString(), ok: rows.every((r) => r.status === 'rendered'), variants: rows}, null, '\t')}\n`,
		);
		return {cacheDir, outDir, manifestPath, variants: rows, ok: rows.every((row) => row.status === 'rendered')};
	} finally {
		options.signal?.removeEventListener('abort', onOuterAbort);
		if (queue && !options.queue) await queue.close();
		await browser.close({silent: true}).catch(() => undefined);
		removeOwnBundle();
	}
};
