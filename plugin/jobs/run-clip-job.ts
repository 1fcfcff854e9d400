import {appendFileSync} from 'node:fs';
import path from 'node:path';
import type {ClipDescriptor} from '../clip/clip-descriptor.js';
import {descriptorKey} from '../clip/descriptor-key.js';
import {parseClipDescriptor} from '../clip/fatezero-clip.js';
import {decodeStage, editStage, encodeStage, invertStage, planClip, promptStage} from '../fatezero/engine-stages.js';
import {engineMemoryShape} from '../fatezero/memory-budget.js';
import type {FateZeroEngine} from '../fatezero/load-fatezero.js';
import type {CacheFs} from '../frame-cache/cache-fs.js';
import {getOrCompute, type GetOrComputeStatus} from '../frame-cache/compute-once.js';
import {clipContentKeys, enginePixelOptions, type ClipContentKeys, type EngineKeyOptions} from '../frame-cache/content-keys.js';
import {writeIndex} from '../frame-cache/descriptor-index.js';
import type {EntryManifest} from '../frame-cache/entry-manifest.js';
import {publishToPublicDir} from '../frame-cache/publish-to-public-dir.js';
import {GENERATED_TINY_MODEL, resolveProjectSettings, type ComputeType, type Setting} from '../project/project-settings.js';
import {resolveModel} from '../project/resolve-model.js';
import {readEntry} from '../frame-cache/read-entry.js';
import {hashSourceContent} from '../media/hash-source-content.js';
import {assertFinite} from '../media/assert-finite.js';
import {checkSize} from '../clip/clip-limits.js';
import {trackEntryUse} from '../frame-cache/entry-in-use.js';
import {assertCacheDirUsable} from '../frame-cache/ensure-writable-cache-dir.js';
import {importSource} from '../media/import-source.js';
import {readModelFolder, type ModelFolder} from '../model/read-model-folder.js';
import {encodeSafetensors, readFloatTensor, readSafetensorsIndex} from '../model/safetensors-file.js';
import {encodePngFrames, toRgb8} from '../media/write-png-frames.js';
import {descriptorEdit, descriptorReferences} from './descriptor-edit.js';
import {FateZeroError} from '../errors/fatezero-error.js';
import type {EnginePool} from './engine-pool.js';
import {readInversionEntry, writeInversionEntry} from './inversion-entry.js';
import {stepPreview, type OnJobPreview} from './live-preview.js';
import {progressTracker, type OnJobProgress, type ProgressTick} from './job-progress.js';

/** Frame folders carry no frame rate; their clips play at this rate unless `frames.fps` is set. */
export const FRAME_FOLDER_FPS = 10;

export type ClipJobOptions = {
	/** A clip descriptor (validated and canonicalised here). */
	descriptor: unknown;
	cacheDir: string;
	/** Relative source and model paths resolve against it. Default: the working directory. */
	projectRoot?: string;
	pool: EnginePool;
	/**
	 * The configured model (a clip's own `model` wins). Default: the project's settings
	 * (FATEZERO_MODEL, fatezero.config.json); none at all is a MODEL_NOT_CONFIGURED error.
	 */
	model?: Pick<Setting<string | null>, 'value' | 'origin'>;
	/** Remotion's public dir: the clip's frames and index are published into its fatezero/ subfolder. Default: none (store only). */
	publicDir?: string | null;
	/** Must match the pool's compute type when given (the pool's engines decide it; it is in the keys). Default: the pool's. */
	computeType?: ComputeType;
	/** Working memory allowed beyond the weights; it decides the chunk size, which is in the keys. Default: 60 % of RAM. */
	memoryBudgetInMegabytes?: number;
	onProgress?: OnJobProgress;
	/** Live previews: the decoded x0 of one frame during inversion and editing, within PREVIEW_TIME_SHARE of the engine time. */
	onPreview?: OnJobPreview;
	signal?: AbortSignal;
	/** The cache's file-system writes (tests inject full disks and read-only directories). Default node:fs. */
	fs?: CacheFs;
};

export type ClipJobResult = {
	descriptorKey: string;
	key: string;
	sourceKey: string;
	inversionKey: string;
	/** Of the edited clip: 'hit' (cached), 'computed' (by this job) or 'joined' (another process computed it while this one waited). */
	status: GetOrComputeStatus;
	statuses: {source: GetOrComputeStatus | 'skipped'; inversion: GetOrComputeStatus | 'skipped'; clip: GetOrComputeStatus};
	path: string;
	manifest: EntryManifest;
	descriptor: ClipDescriptor;
	/** Made with the generated random-weight model (noise), not a real one. */
	generatedModel: boolean;
	/** The public fatezero/ folder the clip was published into, or null. */
	publicPath: string | null;
	/** The engine's warnings for this clip (prompt truncation, words not found), kept in the clip manifest. */
	warnings: string[];
};

// A diagnostic trail of engine runs (used by the concurrency tests to count them).
const logEngineRun = (kind: string, key: string) => {
	const file = process.env.FATEZERO_ENGINE_LOG;
	if (file) appendFileSync(file, `${JSON.stringify({pid: process.pid, kind, key})}\n`);
};

type CachedEntry = {status: GetOrComputeStatus; path: string; manifest: EntryManifest};

/** Everything a clip job's stages share, resolved before any weights load (prepareClipJob). */
export type ClipJob = {
	options: ClipJobOptions;
	descriptor: ClipDescriptor;
	descriptorKey: string;
	sourcePath: string;
	contentHash: string;
	model: {dir: string; generated: boolean; folder: ModelFolder};
	/** The engine run as the keys name it (resolved chunk size, compute type, provider, attention source). */
	engineRun: EngineKeyOptions;
	keys: ClipContentKeys;
	tick: ProgressTick;
	lock: {signal?: AbortSignal; onWait: () => void};
};

/**
 * 1. The keys: descriptor key (pure), then the content keys from the source bytes, the model
 * identity and the engine run, whose chunk size is planned from the model's config under the
 * memory budget exactly as the inversion stage will plan it.
 */
export const prepareClipJob = async (options: ClipJobOptions): Promise<ClipJob> => {
	const descriptor = parseClipDescriptor(options.descriptor);
	// a store path that is a file fails every later step with a bare ENOTDIR
	assertCacheDirUsable(options.cacheDir);
	const dKey = descriptorKey(descriptor);
	const root = options.projectRoot ?? process.cwd();
	const tick = progressTracker(descriptor.label ?? dKey.slice(0, 12), options.onProgress);
	const sourcePath = path.resolve(root, descriptor.source);
	const contentHash = await hashSourceContent(sourcePath, {signal: options.signal});
	const modelSetting =
		descriptor.model !== null
			? {value: descriptor.model === GENERATED_TINY_MODEL ? GENERATED_TINY_MODEL : path.resolve(root, descriptor.model), origin: 'the clip\'s "model"'}
			: (options.model ?? resolveProjectSettings({projectRoot: root}).model);
	const resolvedModel = await resolveModel(modelSetting, options.cacheDir, {signal: options.signal});
	const folder = readModelFolder(resolvedModel.dir);
	// before any import: a size this UNet cannot take would otherwise fail after decoding the source
	checkSize(descriptor.size, 'size', {unetLevels: folder.unet.config.blockOutChannels.length, dir: folder.dir});
	// a pool-like object without settings (a test double) runs the defaults
	const pool = options.pool.settings ?? {executionProvider: 'cpu', computeType: options.computeType ?? 'float32', attentionSource: 'recompute'};
	if (options.computeType !== undefined && options.computeType !== pool.computeType) {
		throw new FateZeroError('INVALID_OPTION', `computeType ${options.computeType} differs from the engine pool's ${pool.computeType}; create the EnginePool with computeType ${options.computeType}, or leave the job's computeType out.`);
	}
	const {chunkSizeInFrames} = planClip({
		engine: engineMemoryShape({unetConfig: folder.unet.config, sizeInPixels: descriptor.size, attentionSource: pool.attentionSource, leastScChannel: descriptor.leastScChannel}),
		frameCount: descriptor.frames.count,
		steps: descriptor.steps,
		editCount: 1,
		attention: descriptorReferences(descriptor),
		memoryBudgetInMegabytes: options.memoryBudgetInMegabytes,
	});
	const engineRun: EngineKeyOptions = {frameCount: descriptor.frames.count, chunkSizeInFrames, computeType: pool.computeType, executionProvider: pool.executionProvider, attentionSource: pool.attentionSource};
	const keys = clipContentKeys(descriptor, {contentHash, modelIdentity: folder.modelIdentity, pixelOptions: enginePixelOptions(engineRun)});
	return {
		options,
		descriptor,
		descriptorKey: dKey,
		sourcePath,
		contentHash,
		model: {dir: resolvedModel.dir, generated: resolvedModel.generated, folder},
		engineRun,
		keys,
		tick,
		lock: {signal: options.signal, onWait: () => tick('wait', 0, 1)},
	};
};

/** 2. The imported source: frames at model size (PNG for the 'source' variant, float32 for the engine). */
export const ensureSource = (job: ClipJob): Promise<CachedEntry> => {
	const {descriptor, options, tick, contentHash} = job;
	return getOrCompute({
		cacheDir: options.cacheDir,
		kind: 'sources',
		key: job.keys.sourceKey,
		lock: job.lock,
		fs: options.fs,
		compute: async (_dir, writer) => {
			tick('import', 0, 1);
			const {frames} = descriptor;
			const selection = frames.fps === null ? {start: frames.start, count: frames.count, stride: frames.stride} : {start: frames.start, count: frames.count, fps: frames.fps};
			const imported = await importSource({source: job.sourcePath, frames: selection, size: descriptor.size, signal: options.signal, onWarning: (warning) => tick.warn([warning])});
			const pngs = await encodePngFrames(imported.rgb8, imported.size, imported.size);
			for (const [i, png] of pngs.entries()) await writer.writeFile(`frames/${String(i).padStart(5, '0')}.png`, png);
			await writer.writeFile('pixels.safetensors', encodeSafetensors({pixels: {dtype: 'F32', shape: [imported.count, 3, imported.size, imported.size], bytes: new Uint8Array(imported.pixels.buffer)}}));
			tick('import', 1, 1);
			return {
				keyInputs: {contentHash, frames: {...selection}, size: descriptor.size} as never,
				frameCount: imported.count,
				fps: frames.fps ?? (imported.sourceInfo.fps === null ? FRAME_FOLDER_FPS : imported.sourceInfo.fps / frames.stride),
				width: imported.size,
				height: imported.size,
				timingsMs: {import: imported.timingsMs.total},
				data: {sourceInfo: imported.sourceInfo as never, selectedSourceFrames: imported.selectedSourceFrames},
			};
		},
	});
};

type EngineAndPrompts = {engine: FateZeroEngine; prompts: Awaited<ReturnType<typeof promptStage>>};
const loaded = new WeakMap<ClipJob, Promise<EngineAndPrompts>>();

/** The engine (loaded once per process and shared by every job) and the clip's prompts, once per job. */
const engineAndPrompts = (job: ClipJob): Promise<EngineAndPrompts> => {
	let pending = loaded.get(job);
	if (!pending) {
		pending = loadEngineAndPrompts(job);
		pending.catch(() => loaded.delete(job));
		loaded.set(job, pending);
	}
	return pending;
};

const loadEngineAndPrompts = async (job: ClipJob): Promise<EngineAndPrompts> => {
	const {descriptor, tick} = job;
	tick('load', 0, 1);
	// live steps while the weights load (one per component); an engine already loaded is at once 1/1
	const engine = await job.options.pool.get({modelDir: job.model.dir, sizeInPixels: descriptor.size, leastScChannel: descriptor.leastScChannel}, ({step, total}) => step < total && tick('load', step, total));
	tick('load', 1, 1);
	const prompts = await promptStage({engine, sourcePrompt: descriptor.sourcePrompt, edits: [descriptorEdit(descriptor)], steps: descriptor.steps});
	tick.warn(prompts.warnings);
	return {engine, prompts};
};

/** 3. The inversion, shared by every variant of this source and source prompt. */
export const ensureInversion = (job: ClipJob, source: CachedEntry): Promise<CachedEntry> => {
	const {descriptor, options, tick, keys} = job;
	return getOrCompute({
		cacheDir: options.cacheDir,
		kind: 'inversions',
		key: keys.inversionKey,
		lock: job.lock,
		fs: options.fs,
		compute: async (_dir, writer) => {
			logEngineRun('invert', keys.inversionKey);
			const {engine, prompts} = await engineAndPrompts(job);
			const started = performance.now();
			const frameCount = source.manifest.frameCount!;
			const pixels = readFloatTensor(readSafetensorsIndex(path.join(source.path, 'pixels.safetensors')), 'pixels').data;
			const clip = await encodeStage({engine, pixels, frameCount, signal: options.signal});
			const {inversion, plan} = await invertStage({
				engine,
				clip,
				sourceText: prompts.sourceText,
				textShape: prompts.textShape,
				steps: descriptor.steps,
				editCount: 1,
				attention: descriptorReferences(descriptor),
				// the chunk size the key names, checked against the budget again
				chunkSizeInFrames: job.engineRun.chunkSizeInFrames,
				memoryBudgetInMegabytes: options.memoryBudgetInMegabytes,
				onStepLatents: stepPreview({onPreview: options.onPreview, job: descriptor.label ?? job.descriptorKey.slice(0, 12), engine, stage: 'invert', steps: descriptor.steps, start: clip.latents, latentShape: clip.latentShape}),
				onProgress: ({step, total}) => tick('invert', step, total),
				signal: options.signal,
			});
			const {data} = await writeInversionEntry(writer, inversion, clip.latentShape);
			return {
				keyInputs: {sourceKey: keys.sourceKey, modelIdentity: job.model.folder.modelIdentity, sourcePrompt: descriptor.sourcePrompt, steps: descriptor.steps, engineRun: enginePixelOptions(job.engineRun)},
				frameCount,
				data: {...data, latentShape: clip.latentShape, chunkSizeInFrames: plan.chunkSizeInFrames},
				timingsMs: {invert: performance.now() - started},
			};
		},
	});
};

/** 4. The edit, decoded and written as PNG frames; the engine's warnings go into the manifest and the progress events. */
export const ensureEdit = (job: ClipJob, source: CachedEntry, inversionEntry: CachedEntry): Promise<CachedEntry> => {
	const {descriptor, options, tick, keys} = job;
	return getOrCompute({
		cacheDir: options.cacheDir,
		kind: 'clips',
		key: keys.editKey,
		lock: job.lock,
		fs: options.fs,
		compute: async (_dir, writer) => {
			logEngineRun('edit', keys.editKey);
			const {engine, prompts} = await engineAndPrompts(job);
			const started = performance.now();
			const frameCount = source.manifest.frameCount!;
			const inversion = readInversionEntry(inversionEntry.path, inversionEntry.manifest.data);
			const latentShape = inversionEntry.manifest.data.latentShape as [number, number, number, number];
			const [latents] = await editStage({
				engine,
				inversion,
				latentShape,
				prompts,
				guidance: descriptor.guidance,
				steps: descriptor.steps,
				onStepLatents: stepPreview({onPreview: options.onPreview, job: descriptor.label ?? job.descriptorKey.slice(0, 12), engine, stage: 'edit', steps: descriptor.steps, start: inversion.latents[descriptor.steps], latentShape}),
				onProgress: ({step, total}) => tick('edit', step, total),
				signal: options.signal,
			});
			const editMs = performance.now() - started;
			assertFinite(latents, {stage: 'edit', what: 'the edited latents'});
			tick('decode', 0, 1);
			const {frames, height, width} = await decodeStage({engine, latents, latentShape, signal: options.signal});
			tick('publish', 0, 1);
			const pngs = await encodePngFrames(Array.from({length: frameCount}, (_, i) => toRgb8(frames, i, height, width)), width, height);
			for (const [i, png] of pngs.entries()) await writer.writeFile(`${String(i).padStart(5, '0')}.png`, png);
			return {
				keyInputs: {inversionKey: keys.inversionKey, descriptor: descriptor as never, engineRun: enginePixelOptions(job.engineRun)},
				frameCount,
				fps: source.manifest.fps,
				width,
				height,
				timingsMs: {edit: editMs, decode: performance.now() - started - editMs},
				data: {descriptorKey: job.descriptorKey, sourceKey: keys.sourceKey, inversionKey: keys.inversionKey, generatedModel: job.model.generated, warnings: prompts.warnings},
			};
		},
	});
};

/** 5. The descriptor index points at the clip; what the browser reads goes into the public dir's fatezero/ subfolder (index record last). */
export const publishClip = async (job: ClipJob, clip: CachedEntry, statuses: ClipJobResult['statuses']): Promise<ClipJobResult> => {
	const {options, keys, descriptor} = job;
	const dKey = job.descriptorKey;
	const target = {editKey: keys.editKey, sourceKey: keys.sourceKey, inversionKey: keys.inversionKey, descriptor};
	await writeIndex(options.cacheDir, dKey, target, {fs: options.fs});
	const publicPath = options.publicDir
		? await publishToPublicDir({cacheDir: options.cacheDir, publicDir: options.publicDir, record: {descriptorKey: dKey, ...target}, clipManifest: clip.manifest, sourceFrameCount: clip.manifest.frameCount!, fs: options.fs})
		: null;
	const warnings = Array.isArray(clip.manifest.data?.warnings) ? (clip.manifest.data.warnings as string[]) : [];
	job.tick.warn(warnings);
	job.tick('done', 1, 1);
	const generatedModel = clip.manifest.data?.generatedModel === true;
	return {descriptorKey: dKey, key: keys.editKey, sourceKey: keys.sourceKey, inversionKey: keys.inversionKey, status: clip.status, statuses: {...statuses, clip: clip.status}, path: clip.path, manifest: clip.manifest, descriptor, generatedModel, publicPath, warnings};
};

/**
 * One clip descriptor through import, inversion, editing and publication (design §3), each stage a
 * content-addressed cache entry computed once across processes: variants of one source and source
 * prompt share the import and the inversion. Finally the descriptor index points at the clip.
 * A distributed worker runs the same steps one at a time (prepareClipJob, then ensureSource,
 * ensureInversion, ensureEdit, publishClip).
 */
export const runClipJob = (options: ClipJobOptions): Promise<ClipJobResult> =>
	// every entry the job reads stays marked in use until it ends, so "cache gc" leaves it alone
	trackEntryUse(() => runClipJobStages(options));

const runClipJobStages = async (options: ClipJobOptions): Promise<ClipJobResult> => {
	const job = await prepareClipJob(options);
	const statuses: ClipJobResult['statuses'] = {source: 'skipped', inversion: 'skipped', clip: 'hit'};
	const cached = await readEntry(options.cacheDir, 'clips', job.keys.editKey);
	if (cached) return publishClip(job, {status: 'hit', path: cached.path, manifest: cached.manifest}, statuses);
	const source = await ensureSource(job);
	statuses.source = source.status;
	const inversion = await ensureInversion(job, source);
	statuses.inversion = inversion.status;
	const clip = await ensureEdit(job, source, inversion);
	return publishClip(job, clip, statuses);
};
