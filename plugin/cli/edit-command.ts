import {existsSync, mkdirSync, readdirSync, rmSync, statSync} from 'node:fs';
import path from 'node:path';
import {FateZeroError} from '../errors/fatezero-error.js';
import {loadFateZero, type FateZeroEngine} from '../fatezero/load-fatezero.js';
import type {FusionMode} from '../fatezero/fusion-io.js';
import {chooseAttentionSource} from '../fatezero/choose-attention-source.js';
import {loadOfficialConfig, type OfficialConfig} from '../fatezero/official-config/index.js';
import {buildFateZeroTargets, runFateZero, type FateZeroResult} from '../fatezero/run-fatezero.js';
import {resolveCacheDir} from '../project/resolve-cache-dir.js';
import {chwToHwc} from '../media/chw-to-hwc.js';
import {importSource} from '../media/import-source.js';
import {readFramesTensor} from '../media/read-frames-tensor.js';
import {writePngFrames} from '../media/write-png-frames.js';
import {readModelFolder} from '../model/read-model-folder.js';
import {readSafetensorsIndex, writeSafetensors} from '../model/safetensors-file.js';
import {parseEditArgs, resolveEditFlags, resolveFrameSelection} from './edit-flags.js';
import {integerOption} from './parse-cli-args.js';
import {createProgressDisplay} from './progress-display.js';
import {resolveCommandModel as resolveModelDir, type ResolvedModel as ResolvedModelDir} from '../project/resolve-model.js';

export {EDIT_HELP} from './edit-help.js';

const optionError = (message: string) => new FateZeroError('INVALID_OPTION', message);

/** A path from a config: relative to the working directory (as the official code), else to the config's folder. */
const resolveConfigPath = (written: string, configFile: string | null): {found: string | null; tried: string[]} => {
	if (path.isAbsolute(written)) return {found: existsSync(written) ? written : null, tried: [written]};
	const tried = [path.resolve(written)];
	if (configFile) tried.push(path.resolve(path.dirname(configFile), written));
	return {found: tried.find((candidate) => existsSync(candidate)) ?? null, tried: [...new Set(tried)]};
};

/** A folder name from a prompt: lower-case ASCII words joined by '-', cut at a word end near 48 characters. */
const slugify = (prompt: string): string => {
	const slug = prompt
		.normalize('NFKD')
		.replace(/[\u0300-\u036f]/g, '')
		.toLowerCase()
		.replace(/[^a-z0-9]+/g, '-')
		.replace(/^-+|-+$/g, '');
	if (slug.length <= 48) return slug || 'prompt';
	const cut = slug.slice(0, 49);
	const end = cut.lastIndexOf('-');
	return end > 0 ? cut.slice(0, end) : slug.slice(0, 48);
};

/** Removes earlier runs' frames (00000.png …) so a folder holds exactly this run's. */
const clearFrameFiles = (dir: string): void => {
	if (!existsSync(dir)) return;
	for (const name of readdirSync(dir)) if (/^\d{5}\.png$/.test(name)) rmSync(path.join(dir, name), {force: true});
};

const formatSeconds = (ms: number) => (ms >= 60_000 ? `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s` : `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`);

/** Writes the run's F32 latents: zT and edited.<k>, all [F, 4, h, w]. */
const saveLatents = (file: string, result: FateZeroResult, shape: number[], sourcePrompt: string, steps: number): void => {
	const bytes = (array: Float32Array) => new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
	const tensors: Parameters<typeof writeSafetensors>[1] = {zT: {dtype: 'F32', shape, bytes: bytes(result.invertedLatents)}};
	result.edited.forEach((edit, k) => (tensors[`edited.${k}`] = {dtype: 'F32', shape, bytes: bytes(edit.latents)}));
	mkdirSync(path.dirname(file), {recursive: true});
	writeSafetensors(file, tensors, {
		source_prompt: sourcePrompt,
		prompts: JSON.stringify(result.edited.map((edit) => edit.prompt)),
		steps: String(steps),
		layout: '[frames, channels, height, width]',
	});
};

type SourceChoice = {kind: 'frames' | 'video' | 'tensor'; path: string; from: string};

const chooseSource = (values: {frames?: string; video?: string; 'frames-tensor'?: string}, config: OfficialConfig | null): SourceChoice => {
	const given = (['frames', 'video', 'frames-tensor'] as const).filter((flag) => values[flag] !== undefined);
	if (given.length > 1) throw optionError(`Give one input, not ${given.map((flag) => `--${flag}`).join(' and ')}.`);
	if (given.length === 1) {
		const flag = given[0];
		return {kind: flag === 'frames-tensor' ? 'tensor' : flag, path: path.resolve(values[flag]!), from: `--${flag}`};
	}
	if (config?.dataset.path) {
		const {found, tried} = resolveConfigPath(config.dataset.path, config.file);
		if (!found) {
			throw optionError(
				`dataset_config.path "${config.dataset.path}" of ${config.file ?? 'the config'} does not exist (looked at ${tried.join(' and ')}). Pass the frames with --frames DIR, --video FILE or --frames-tensor FILE.`,
			);
		}
		return {kind: statSync(found).isDirectory() ? 'frames' : 'video', path: found, from: 'dataset_config.path'};
	}
	throw optionError('fatezero edit needs an input: --frames DIR (PNG/JPEG frames), --video FILE or --frames-tensor FILE (or --config with dataset_config.path). Run "fatezero edit --help".');
};

const chooseModel = (option: string | undefined, config: OfficialConfig | null, cacheDir: string, warn: (message: string) => void): ResolvedModelDir => {
	if (option !== undefined || !config?.modelPath) return resolveModelDir(option, cacheDir);
	const {found, tried} = resolveConfigPath(config.modelPath, config.file);
	if (found) return {dir: found, generated: false, notice: `Model: ${found} (pretrained_model_path)`};
	if (process.env.FATEZERO_MODEL) {
		warn(`pretrained_model_path "${config.modelPath}" does not exist (looked at ${tried.join(' and ')}); using FATEZERO_MODEL instead.`);
		return resolveModelDir(undefined, cacheDir);
	}
	throw optionError(
		`pretrained_model_path "${config.modelPath}" of ${config.file ?? 'the config'} does not exist (looked at ${tried.join(' and ')}). Pass --model DIR (a Stable Diffusion 1.x folder in diffusers layout) or set FATEZERO_MODEL.`,
	);
};

export const editCommand = async (args: string[]): Promise<number> => {
	const started = performance.now();
	const values = parseEditArgs(args);
	const warnings: string[] = [];
	const shown = new Set<string>();
	const warn = (message: string) => {
		if (shown.has(message)) return;
		shown.add(message);
		warnings.push(message);
		console.log(`⚠ ${message}`);
	};

	// 1. options: the config, then the flags over it
	const config = values.config === undefined ? null : loadOfficialConfig(values.config);
	if (config) {
		console.log(`Config       ${config.file}`);
		for (const note of config.notes) console.log(`  ℹ ${note}`);
		for (const warning of config.warnings) warn(warning);
	}
	const {sourcePrompt, edits, steps, guidance, requestedSource, storagePrecision, fusionMaxQueryTokens, chunkSizeInFrames, memoryBudgetInMegabytes, attention, executionProvider, computeType} = resolveEditFlags(values, config, warn);
	const cacheDir = resolveCacheDir(values['cache-dir']);
	const out = path.resolve(values.out!);
	const source = chooseSource(values, config);
	const {selection, crop} = resolveFrameSelection(values, config, source.kind);

	// 2. the model: its UNet decides which sizes work and the default least_sc_channel
	const resolved = chooseModel(values.model, config, cacheDir, warn);
	console.log(resolved.notice);
	const model = readModelFolder(resolved.dir);
	const channels = model.unet.config.blockOutChannels;
	const multiple = 8 * 2 ** (channels.length - 1);
	let size: number;
	let sizeFrom: string;
	if (values.size !== undefined) [size, sizeFrom] = [integerOption('size', values.size, 512), '--size'];
	else if (config) [size, sizeFrom] = [config.dataset.sizeInPixels, 'dataset_config.image_size'];
	else if (source.kind === 'tensor') {
		// The tensor's own size; a missing or malformed file is reported when it is read below.
		let entry;
		try {
			entry = readSafetensorsIndex(source.path).tensors.get('images');
		} catch {
			entry = undefined;
		}
		[size, sizeFrom] = entry && entry.shape.length === 4 ? [entry.shape[2], 'the tensor'] : [512, 'the default'];
	} else [size, sizeFrom] = [512, 'the default'];
	if (size % multiple !== 0) {
		const suggestion = Math.max(multiple, Math.round(size / multiple) * multiple);
		throw optionError(`The frame size ${size} (${sizeFrom}) does not fit this model: it must be a multiple of ${multiple} (the VAE's 8× and ${channels.length - 1} UNet downsamplings). Try --size ${suggestion}.`);
	}
	const leastScChannel = integerOption('least-sc-channel', values['least-sc-channel'], config?.leastScChannel ?? channels[1] ?? 0, 0);
	const readsReferences = !(attention.length === 1 && attention[0] === 0);
	if (readsReferences && leastScChannel > Math.max(...channels)) {
		warn(
			`least_sc_channel ${leastScChannel} is above every UNet level's channels (${channels.join(', ')}), so no level reads the reference frames (${JSON.stringify(attention)}): plain per-frame self-attention everywhere. The official 640 is for SD-1.x; pass --least-sc-channel ${channels[1] ?? 0} for this model.`,
		);
	}

	// 3. frames
	let pixels: Float32Array;
	let frameCount: number;
	let frameLabel: string;
	if (source.kind === 'tensor') {
		if (values.offset !== undefined) warn('--offset has no effect on --frames-tensor: its frames are already cropped and resized.');
		const loaded = readFramesTensor(source.path, size, sizeFrom, selection);
		[pixels, frameCount] = [loaded.pixels, loaded.count];
		frameLabel = `frames ${loaded.frames.join(', ')} of ${source.path}`;
	} else {
		if (source.kind === 'video' && statSync(source.path, {throwIfNoEntry: false})?.isDirectory()) {
			throw optionError(`--video ${source.path} is a folder; pass frame folders with --frames.`);
		}
		if (source.kind === 'frames' && !statSync(source.path, {throwIfNoEntry: false})?.isDirectory()) {
			throw new FateZeroError('INVALID_INPUT', `--frames ${source.path} is not a folder of frames. Pass a folder of PNG/JPEG frames (or a video with --video).`);
		}
		const imported = await importSource({source: source.path, size, crop, frames: {start: selection.start, stride: selection.stride, ...(selection.count === null ? {} : {count: selection.count})}});
		[pixels, frameCount] = [imported.pixels, imported.count];
		frameLabel = `${source.kind === 'video' ? `frames ${imported.selectedSourceFrames[0]}…${imported.selectedSourceFrames.at(-1)} of` : `${imported.count} frames of`} ${source.path}`;
	}
	console.log(`Input        ${frameLabel} (${source.from}) at ${size}×${size}`);
	console.log(`Source       ${JSON.stringify(sourcePrompt)}`);
	let attentionSource: FusionMode;
	if (requestedSource === 'auto') {
		const choice = chooseAttentionSource({
			unetConfig: model.unet.config,
			sizeInPixels: size,
			frameCount,
			steps,
			editCount: edits.length,
			attention,
			chunkSizeInFrames,
			memoryBudgetInMegabytes,
			leastScChannel,
			fusionMaxQueryTokens,
			storagePrecision,
		});
		attentionSource = choice.attentionSource;
		console.log(`Attention    ${attentionSource} (--attention-source auto: ${choice.reason})`);
	} else attentionSource = requestedSource;
	console.log(`Run          ${steps} step${steps === 1 ? '' : 's'}, guidance ${guidance}, attention ${JSON.stringify(attention)} from ${leastScChannel} channels, ${attentionSource} source attention, ${executionProvider}, ${computeType}`);

	// 4. engine
	const display = createProgressDisplay({json: values['json-progress'] === true});
	const progress = {update: display.engine('edit'), clear: display.clear};
	const loadStart = performance.now();
	const engine: FateZeroEngine = await loadFateZero({
		modelDir: resolved.dir,
		cacheDir,
		executionProvider,
		computeType,
		sizeInPixels: size,
		leastScChannel,
		fusionMaxQueryTokens,
		attentionSource,
		storagePrecision,
		onProgress: progress.update,
	});
	const loadMs = performance.now() - loadStart;
	try {
		// Build every controller before the long part: bad windows fail now, word warnings show now.
		const reasons = edits.map((edit, k) => {
			try {
				// the same defaults and checks as runFateZero (buildFateZeroTargets), one prompt at a time
				const {targets, warnings} = buildFateZeroTargets(engine, sourcePrompt, [edit], steps);
				for (const warning of warnings) warn(warning);
				return targets[0].edit.controllerReason;
			} catch (error) {
				if (error instanceof FateZeroError) throw new FateZeroError(error.code, `Prompt ${k} (${JSON.stringify(edit.prompt)}): ${error.message}`, {cause: error});
				throw error;
			}
		});
		edits.forEach((edit, k) => console.log(`Prompt ${String(k).padEnd(6)}${JSON.stringify(edit.prompt)}: ${reasons[k]}`));

		const result = await runFateZero({
			engine,
			pixels,
			frameCount,
			sourcePrompt,
			edits,
			steps,
			guidance,
			attention,
			chunkSizeInFrames,
			memoryBudgetInMegabytes,
			onProgress: progress.update,
		});
		progress.clear();
		for (const warning of result.warnings) warn(warning);

		// 5. outputs
		const writeStart = performance.now();
		const sourceDir = path.join(out, 'source');
		clearFrameFiles(sourceDir);
		await writePngFrames(sourceDir, chwToHwc(pixels, frameCount, size), frameCount, size, size);
		const outputs = [];
		for (const [k, edit] of result.edited.entries()) {
			const dir = path.join(out, `${k}-${slugify(edit.prompt)}`);
			clearFrameFiles(dir);
			const files = await writePngFrames(dir, edit.frames!, frameCount, size, size);
			outputs.push({index: k, prompt: edit.prompt, controller: edit.controller, reason: reasons[k], dir, frames: files.length});
			progress.update({stage: 'write', step: k + 1, total: result.edited.length});
		}
		progress.clear();
		const latentsFile = values['save-latents'] === undefined ? null : path.resolve(values['save-latents']);
		const latentShape = [frameCount, 4, engine.latentSize, engine.latentSize];
		if (latentsFile) saveLatents(latentsFile, result, latentShape, sourcePrompt, steps);
		const writeMs = performance.now() - writeStart;

		const t = result.timingsMs;
		console.log(`Wrote        ${out}/`);
		console.log(`               source/00000.png … ${String(frameCount - 1).padStart(5, '0')}.png   the input frames at ${size}×${size}`);
		for (const output of outputs) console.log(`               ${path.basename(output.dir)}/   ${output.controller}: ${JSON.stringify(output.prompt)}`);
		if (latentsFile) console.log(`             ${latentsFile}: zT and edited.0 … edited.${outputs.length - 1}, F32 [${latentShape.join(', ')}]`);
		console.log(
			`Timings      load ${formatSeconds(loadMs)}, encode ${formatSeconds(t.encode)}, inversion ${formatSeconds(t.invert)}, editing ${formatSeconds(t.edit)}, decode ${formatSeconds(t.decode)}, write ${formatSeconds(writeMs)}; chunks of ${result.chunkSizeInFrames} frames`,
		);
		if (resolved.generated) console.log('             (random weights: the frames are noise-like; this only shows the pipeline runs end to end)');
		if (values.json) {
			console.log(
				JSON.stringify({
					model: {dir: resolved.dir, generated: resolved.generated},
					config: config?.file ?? null,
					input: {kind: source.kind, path: source.path, frames: frameCount, size},
					sourcePrompt,
					steps,
					guidance,
					attention,
					leastScChannel,
					attentionSource,
					fusionMaxQueryTokens,
					out,
					outputs: {source: {dir: sourceDir, frames: frameCount}, edits: outputs, latents: latentsFile},
					controllers: outputs.map((output) => output.controller),
					chunkSizeInFrames: result.chunkSizeInFrames,
					warnings,
					notes: config?.notes ?? [],
					timingsMs: {load: loadMs, ...t, write: writeMs, total: performance.now() - started},
				}),
			);
		}
		return 0;
	} finally {
		progress.clear();
		await engine.dispose();
	}
};
