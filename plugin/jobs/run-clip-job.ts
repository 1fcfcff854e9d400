import {appendFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type {ClipDescriptor} from '../clip/clip-descriptor.js';
import {descriptorKey} from '../clip/descriptor-key.js';
import {parseClipDescriptor} from '../clip/fatezero-clip.js';
import {decodeLatents, encodeFrames} from '../diffusion/vae-codec.js';
import {encodePrompts} from '../diffusion/encode-prompts.js';
import {planChunks} from '../fatezero/chunk-plan.js';
import {editClip} from '../fatezero/edit-clip.js';
import {invertClip} from '../fatezero/invert-clip.js';
import {buildFateZeroTargets, chooseChunkSize} from '../fatezero/run-fatezero.js';
import type {CacheFs} from '../frame-cache/cache-fs.js';
import {getOrCompute, type GetOrComputeStatus} from '../frame-cache/compute-once.js';
import {clipContentKeys} from '../frame-cache/content-keys.js';
import {writeIndex} from '../frame-cache/descriptor-index.js';
import type {EntryManifest} from '../frame-cache/entry-manifest.js';
import {publishToPublicDir} from '../frame-cache/publish-to-public-dir.js';
import {GENERATED_TINY_MODEL, resolveProjectSettings, type ComputeType, type Setting} from '../project/project-settings.js';
import {resolveModel} from '../project/resolve-model.js';
import {readEntry} from '../frame-cache/read-entry.js';
import {hashSourceContent} from '../media/hash-source-content.js';
import {importSource} from '../media/import-source.js';
import {readModelFolder} from '../model/read-model-folder.js';
import {encodeSafetensors, readFloatTensor, readSafetensorsIndex} from '../model/safetensors-file.js';
import {encodePngFrames, toRgb8} from '../media/write-png-frames.js';
import {descriptorEdit, descriptorReferences} from './descriptor-edit.js';
import type {EnginePool} from './engine-pool.js';
import {readInversionEntry, writeInversionEntry} from './inversion-entry.js';
import {progressTracker, type OnJobProgress} from './job-progress.js';

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
	/** Must match the pool's compute type; float16 gives other pixels, so it enters the keys. Default float32. */
	computeType?: ComputeType;
	memoryBudgetInMegabytes?: number;
	onProgress?: OnJobProgress;
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
};

// A diagnostic trail of engine runs (used by the concurrency tests to count them).
const logEngineRun = (kind: string, key: string) => {
	const file = process.env.FATEZERO_ENGINE_LOG;
	if (file) appendFileSync(file, `${JSON.stringify({pid: process.pid, kind, key})}\n`);
};

/**
 * One clip descriptor through import, inversion, editing and publication (design §3), each stage a
 * content-addressed cache entry computed once across processes: variants of one source and source
 * prompt share the import and the inversion. Finally the descriptor index points at the clip.
 */
export const runClipJob = async (options: ClipJobOptions): Promise<ClipJobResult> => {
	// 1. keys: descriptor key (pure), then content keys (source bytes, model identity)
	const descriptor = parseClipDescriptor(options.descriptor);
	const dKey = descriptorKey(descriptor);
	const root = options.projectRoot ?? process.cwd();
	const job = descriptor.label ?? dKey.slice(0, 12);
	const tick = progressTracker(job, options.onProgress);
	const sourcePath = path.resolve(root, descriptor.source);
	const contentHash = await hashSourceContent(sourcePath);
	const modelSetting =
		descriptor.model !== null
			? {value: descriptor.model === GENERATED_TINY_MODEL ? GENERATED_TINY_MODEL : path.resolve(root, descriptor.model), origin: 'the clip\'s "model"'}
			: (options.model ?? resolveProjectSettings({projectRoot: root}).model);
	const resolvedModel = await resolveModel(modelSetting, options.cacheDir, {signal: options.signal});
	const modelDir = resolvedModel.dir;
	const computeType = options.computeType ?? 'float32';
	const model = readModelFolder(modelDir);
	// float32 keys stay as they were; another compute type gives other pixels, so it is in the key
	const keys = clipContentKeys(descriptor, {contentHash, modelIdentity: model.modelIdentity, pixelOptions: computeType === 'float32' ? undefined : {computeType}});
	const statuses: ClipJobResult['statuses'] = {source: 'skipped', inversion: 'skipped', clip: 'hit'};
	const lock = {signal: options.signal, onWait: () => tick('wait', 0, 1)};

	const cached = await readEntry(options.cacheDir, 'clips', keys.editKey);
	let clip: {status: GetOrComputeStatus; path: string; manifest: EntryManifest} | null = cached ? {status: 'hit', path: cached.path, manifest: cached.manifest} : null;
	if (!clip) {
		// 2. the imported source: frames at model size (PNG for the 'source' variant, float32 for the engine)
		const source = await getOrCompute({
			cacheDir: options.cacheDir,
			kind: 'sources',
			key: keys.sourceKey,
			lock,
			fs: options.fs,
			compute: async (_dir, writer) => {
				tick('import', 0, 1);
				const {frames} = descriptor;
				const selection = frames.fps === null ? {start: frames.start, count: frames.count, stride: frames.stride} : {start: frames.start, count: frames.count, fps: frames.fps};
				const imported = await importSource({source: sourcePath, frames: selection, size: descriptor.size, signal: options.signal});
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
		statuses.source = source.status;
		const frameCount = source.manifest.frameCount!;
		const pixels = readFloatTensor(readSafetensorsIndex(path.join(source.path, 'pixels.safetensors')), 'pixels').data;

		// 3. engine and prompts (loaded once per process and shared by every job)
		tick('load', 0, 1);
		const engine = await options.pool.get({modelDir, sizeInPixels: descriptor.size, leastScChannel: descriptor.leastScChannel});
		tick('load', 1, 1);
		const references = descriptorReferences(descriptor);
		const edit = descriptorEdit(descriptor);
		const prompts = await encodePrompts(engine.textEncoder, engine.tokenizer, ['', descriptor.sourcePrompt, descriptor.prompt]);
		const row = prompts.shape[1] * prompts.shape[2];
		const [uncond, sourceText, targetText] = [0, 1, 2].map((i) => prompts.states.slice(i * row, (i + 1) * row));
		const textShape: [number, number, number] = [1, prompts.shape[1], prompts.shape[2]];
		const scalingFactor = engine.model.vae.config.scalingFactor;
		const common = {unet: engine.unet, plan: engine.plan, mode: engine.attentionSource, scheduler: engine.scheduler, textShape};

		// 4. the inversion, shared by every variant of this source and source prompt
		const inversionEntry = await getOrCompute({
			cacheDir: options.cacheDir,
			kind: 'inversions',
			key: keys.inversionKey,
			lock,
			fs: options.fs,
			compute: async (_dir, writer) => {
				logEngineRun('invert', keys.inversionKey);
				const started = performance.now();
				const budget = (options.memoryBudgetInMegabytes ?? (os.totalmem() * 0.6) / 2 ** 20) * 2 ** 20;
				const chunkSize = chooseChunkSize({engine, frameCount, attention: references, chunkSizeInFrames: null, editCount: 1, steps: descriptor.steps}, budget);
				const {latents: z0, latentShape} = await encodeFrames(engine.vaeEncoder, pixels, [frameCount, 3, descriptor.size, descriptor.size], {scalingFactor});
				const inversion = await invertClip({
					...common,
					latents: z0,
					latentShape,
					sourceText,
					chunks: planChunks(frameCount, chunkSize, references),
					steps: descriptor.steps,
					onProgress: ({step, total}) => tick('invert', step, total),
					signal: options.signal,
				});
				const {data} = await writeInversionEntry(writer, inversion, latentShape);
				return {keyInputs: {sourceKey: keys.sourceKey, modelIdentity: model.modelIdentity, sourcePrompt: descriptor.sourcePrompt, steps: descriptor.steps}, frameCount, data: {...data, latentShape}, timingsMs: {invert: performance.now() - started}};
			},
		});
		statuses.inversion = inversionEntry.status;

		// 5. the edit, decoded and published as PNG frames
		clip = await getOrCompute({
			cacheDir: options.cacheDir,
			kind: 'clips',
			key: keys.editKey,
			lock,
			fs: options.fs,
			compute: async (_dir, writer) => {
				logEngineRun('edit', keys.editKey);
				const started = performance.now();
				const inversion = readInversionEntry(inversionEntry.path, inversionEntry.manifest.data);
				const latentShape = inversionEntry.manifest.data.latentShape as [number, number, number, number];
				const {targets} = buildFateZeroTargets(engine, descriptor.sourcePrompt, [edit], descriptor.steps);
				const [latents] = await editClip({
					...common,
					inversion,
					latentShape,
					targets,
					unconditionalText: uncond,
					sourceText,
					targetTexts: [targetText],
					guidance: descriptor.guidance,
					steps: descriptor.steps,
					onProgress: ({step, total}) => tick('edit', step, total),
					signal: options.signal,
				});
				const editMs = performance.now() - started;
				tick('decode', 0, 1);
				const {frames, height, width} = await decodeLatents(engine.vaeDecoder, latents, latentShape, {scalingFactor});
				tick('publish', 0, 1);
				const pngs = await encodePngFrames(Array.from({length: frameCount}, (_, i) => toRgb8(frames, i, height, width)), width, height);
				for (const [i, png] of pngs.entries()) await writer.writeFile(`${String(i).padStart(5, '0')}.png`, png);
				return {
					keyInputs: {inversionKey: keys.inversionKey, descriptor: descriptor as never},
					frameCount,
					fps: source.manifest.fps,
					width,
					height,
					timingsMs: {edit: editMs, decode: performance.now() - started - editMs},
					data: {descriptorKey: dKey, sourceKey: keys.sourceKey, inversionKey: keys.inversionKey, generatedModel: resolvedModel.generated},
				};
			},
		});
	}
	if (!clip) throw new Error('unreachable: the clip entry was neither read nor computed');
	statuses.clip = clip.status;
	// 6. the descriptor now resolves to this clip
	const target = {editKey: keys.editKey, sourceKey: keys.sourceKey, inversionKey: keys.inversionKey, descriptor};
	await writeIndex(options.cacheDir, dKey, target, {fs: options.fs});
	// 7. what the browser reads, into the public dir's fatezero/ subfolder (index record last)
	const publicPath = options.publicDir
		? await publishToPublicDir({cacheDir: options.cacheDir, publicDir: options.publicDir, record: {descriptorKey: dKey, ...target}, clipManifest: clip.manifest, sourceFrameCount: clip.manifest.frameCount!, fs: options.fs})
		: null;
	tick('done', 1, 1);
	const generatedModel = clip.manifest.data?.generatedModel === true;
	return {descriptorKey: dKey, key: keys.editKey, sourceKey: keys.sourceKey, inversionKey: keys.inversionKey, status: clip.status, statuses, path: clip.path, manifest: clip.manifest, descriptor, generatedModel, publicPath};
};
