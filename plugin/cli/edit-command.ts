import {existsSync, mkdirSync, readdirSync, rmSync, statSync} from 'node:fs';
import path from 'node:path';
import {parseArgs} from 'node:util';
import {FateZeroError} from '../errors/fatezero-error.js';
import {loadFateZero, type FateZeroEngine} from '../fatezero/load-fatezero.js';
import {OFFICIAL_FUSION_MAX_QUERY_TOKENS} from '../fatezero/fusion-plan.js';
import type {FusionMode, StoragePrecision} from '../fatezero/fusion-io.js';
import {chooseAttentionSource} from '../fatezero/choose-attention-source.js';
import {loadOfficialConfig, type OfficialConfig} from '../fatezero/official-config/index.js';
import {checkStepWindow, CONTROLLER_OPTIONS, type BlendWords, type ControllerOption, type CrossReplaceSteps, type ReweightOptions, type StepWindow} from '../fatezero/prompt-to-prompt/index.js';
import {ATTENTION_PRESETS, type AttentionPreset, type ReferenceFrameSpec} from '../clip/reference-frames.js';
import {checkGuidance, checkPrompt, checkSteps} from '../clip/clip-limits.js';
import {buildFateZeroTargets, runFateZero, type FateZeroEdit, type FateZeroResult} from '../fatezero/run-fatezero.js';
import {resolveCacheDir} from '../project/resolve-cache-dir.js';
import {importSource} from '../media/import-source.js';
import {writePngFrames} from '../media/write-png-frames.js';
import type {ProgressEvent} from '../diffusion/progress.js';
import {readModelFolder} from '../model/read-model-folder.js';
import {readFloatTensor, readSafetensorsIndex, writeSafetensors, type SafetensorsIndex} from '../model/safetensors-file.js';
import {parseExecutionProvider} from '../runtime/index.js';
import {integerOption, withArgErrors} from './parse-cli-args.js';
import {resolveCommandModel as resolveModelDir, type ResolvedModel as ResolvedModelDir} from '../project/resolve-model.js';

export const EDIT_HELP = `fatezero edit --source-prompt TEXT --prompt TEXT [--prompt TEXT …] (--frames DIR | --video FILE | --frames-tensor FILE) --out DIR [options]
fatezero edit --config FILE --out DIR [options as overrides]

Edits a clip with FateZero: DDIM inversion under the source prompt, then one fused editing pass per
--prompt (all prompts in one batch), decoded to PNG frames.

Input (one of; with --config, dataset_config.path is the default):
  --frames DIR             Folder of PNG/JPEG frames (sorted by name).
  --video FILE             Video file (mp4, mov, webm, mkv), decoded with Remotion's ffmpeg.
  --frames-tensor FILE     safetensors file with one tensor "images" [F, 3, H, W] in [-1, 1], frames
                           already preprocessed (H = W = --size).
  --frames-count N         Frames to take. Default 8 (all of a --frames-tensor).
  --start N / --stride N   First frame and step (FateZero's start_sample_frame / sampling_rate). Default 0 / 1.
  --offset L,R,T,B         Pixels cut from the left, right, top, bottom edge before resizing. Default 0,0,0,0.
  --size PX                Square frame size the model sees; a multiple of 8·2^(UNet levels−1) (64 for
                           SD-1.x). Default 512 (dataset_config.image_size; the tensor's size).

Prompts:
  --source-prompt TEXT     The prompt that describes the input video.
  --prompt TEXT            An editing prompt; repeat for several. Official configs put the source
                           prompt first (index 0, a reconstruction).

Per-prompt options — given once, they apply to every --prompt; given once per --prompt, the k-th
value goes to the k-th prompt. With --config they override every entry of p2p_config.
  --cross-replace W        Cross-attention window: 0.8 (first 80 % of the steps), 0.2:0.8, or per word
                           "0.8,car=0:0.5" (default_ first). Default 0.8.
  --self-replace W         Self-attention window: 0.8 or 0.2:0.8. Default 0.8.
  --reweight WORD=X[,…]    Scale target words' cross-attention (eq_params), e.g. watercolor=10; "none".
  --blend-words S[,S]:T[,T]  Blend words, source:target, e.g. silver,jeep:Porsche,car; "none". Keeps the
                           edit's own self-attention inside the source words' mask.
  --blend-th X             Blend mask threshold (blend_th[0]). Default 0.3; ≥ 1 keeps the source.
  --controller C           ${CONTROLLER_OPTIONS.join(' | ')}. Default auto (Replace when both prompts have
                           the same number of words, else Refine).
  --latent-blend           Also blend the latents with the blend words' mask (every prompt).

Engine:
  --model DIR              SD-1.x folder (diffusers layout). Default: pretrained_model_path of --config,
                           else FATEZERO_MODEL, else a generated tiny random-weight model (noise-like).
  --steps N                DDIM steps (inversion and editing). Default 50.
  --guidance G             Classifier-free guidance. Default 7.5.
  --attention NAME         ${Object.keys(ATTENTION_PRESETS).join(' | ')} (SparseCausalAttention_index). Default mid.
  --least-sc-channel N     UNet levels with fewer channels use per-frame self-attention. Default: the
                           second level's channels (640 for SD-1.x).
  --attention-source M     recompute | stored | auto: recompute the source attention at each editing
                           step (low memory) or keep it from the inversion (faster steps, memory
                           grows with the steps); auto keeps it when it fits the memory budget.
                           Default recompute.
  --storage-precision P    float16 | float32: what stored mode keeps. Default float16.
  --fusion-max-query-tokens N  Fuse only layers with at most N query tokens. Default 1024 (the
                           official 32²); the golden run shape_default_th64 uses 64.
  --chunk-size N           Frames per UNet batch. Default: the whole clip if it fits the memory budget.
  --memory-budget-mb N     Working memory allowed beyond the weights. Default 60 % of RAM.
  --execution-provider P   cpu | cuda | webgpu. Default cpu.
  --compute-type T         float32 | float16: precision inside the graphs (their inputs and outputs stay
                           float32). float16 pays off on GPUs; on the CPU ORT computes most of it in
                           float32 anyway. Default float32.
  --cache-dir DIR          Graphs and the generated model. Default FATEZERO_CACHE_DIR or ./cache.

Official config:
  --config FILE            An official FateZero config (YAML, or the same structure as JSON): model,
                           frames, prompts, p2p_config, steps, guidance and attention come from it;
                           the flags above override it. --prompt replaces editing_prompts (p2p_config[k]
                           still pairs with the k-th prompt).

Output:
  --out DIR                DIR/source/00000.png …        the input frames at the model's size
                           DIR/<k>-<prompt-slug>/00000.png … one folder per prompt, k = its index
  --save-latents FILE      safetensors with zT [F, 4, h, w] and edited.<k> [F, 4, h, w] (F32).
  --json                   Print a JSON summary as the last line (outputs, controllers, warnings,
                           chunk size, timings).`;

const ATTENTION_SOURCES: readonly (FusionMode | 'auto')[] = ['recompute', 'stored', 'auto'];
const STORAGE_PRECISIONS: readonly StoragePrecision[] = ['float16', 'float32'];
const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

const optionError = (message: string) => new FateZeroError('INVALID_OPTION', message);

/** A number typed on the command line; '' is not 0. */
const toNumber = (text: string): number => (text.trim() === '' ? Number.NaN : Number(text.trim()));

const numberOption = (flag: string, text: string | undefined, fallback: number, rule: {min?: number; positive?: boolean} = {}): number => {
	if (text === undefined) return fallback;
	const value = toNumber(text);
	if (!Number.isFinite(value) || (rule.min !== undefined && value < rule.min) || (rule.positive && value <= 0)) {
		const need = rule.positive ? 'a number > 0' : rule.min !== undefined ? `a number ≥ ${rule.min}` : 'a finite number';
		throw optionError(`--${flag} must be ${need}; got "${text}".`);
	}
	return value;
};

const choiceOption = <T extends string>(flag: string, text: string | undefined, choices: readonly T[], fallback: T): T => {
	if (text === undefined) return fallback;
	if (!(choices as readonly string[]).includes(text)) throw optionError(`--${flag} "${text}" is not one of ${choices.join(', ')}.`);
	return text as T;
};

/** "0.8" → 0.8, "0.2:0.8" → [0.2, 0.8]; checked like the engine's windows (in [0, 1], start ≤ end). */
const parseWindow = (flag: string, text: string): StepWindow => {
	const parts = text.split(':').map(toNumber);
	if (parts.length > 2 || parts.some((part) => !Number.isFinite(part))) {
		throw optionError(`--${flag} "${text}" is not a window: give a fraction of the steps such as 0.8 (the first 80 %) or start:end such as 0.2:0.8, with numbers in [0, 1].`);
	}
	const value: StepWindow = parts.length === 1 ? parts[0] : [parts[0], parts[1]];
	checkStepWindow(`--${flag} ${text}`, value);
	return value;
};

/** "0.8" | "0.2:0.8" | "0.8,car=0:0.5" | "default_=0.8,car=0.3". */
const parseCrossReplace = (text: string): CrossReplaceSteps => {
	const items = text.split(',').map((item) => item.trim());
	const words: Record<string, StepWindow> = {};
	items.forEach((item, i) => {
		const eq = item.lastIndexOf('=');
		if (eq < 0) {
			if (i > 0) throw optionError(`--cross-replace "${text}": only the first item may be a bare window (the default); give the others as word=window, e.g. 0.8,car=0:0.5.`);
			words.default_ = parseWindow('cross-replace', item);
			return;
		}
		const word = item.slice(0, eq).trim();
		if (word === '') throw optionError(`--cross-replace "${text}": "${item}" has no word before "=".`);
		words[word === 'default' ? 'default_' : word] = parseWindow('cross-replace', item.slice(eq + 1));
	});
	const keys = Object.keys(words);
	return keys.length === 1 && keys[0] === 'default_' ? words.default_ : words;
};

const isNone = (text: string) => ['none', ''].includes(text.trim().toLowerCase());

/** "watercolor=10,painting=5" → {words, values}; "none" → null. */
const parseReweight = (text: string): ReweightOptions | null => {
	if (isNone(text)) return null;
	const words: string[] = [];
	const values: number[] = [];
	for (const item of text.split(',')) {
		const eq = item.lastIndexOf('=');
		const word = eq < 0 ? '' : item.slice(0, eq).trim();
		const value = eq < 0 ? Number.NaN : toNumber(item.slice(eq + 1));
		if (word === '' || !Number.isFinite(value) || value < 0) {
			throw optionError(`--reweight "${text}": "${item}" is not word=factor with a factor ≥ 0 (FateZero's configs use 2–20, usually 10). Example: --reweight watercolor=10.`);
		}
		words.push(word);
		values.push(value);
	}
	return {words, values};
};

/** "silver,jeep:Porsche,car" → [[silver, jeep], [Porsche, car]]; "jeep" → [[jeep]]; "none" → null. */
const parseBlendWords = (text: string): BlendWords | null => {
	if (isNone(text)) return null;
	const sides = text.split(':');
	if (sides.length > 2) throw optionError(`--blend-words "${text}" has more than one ":"; give source words:target words, e.g. silver,jeep:Porsche,car.`);
	return sides.map((side) => {
		const words = side.split(',').map((word) => word.trim());
		if (words.some((word) => word === '')) throw optionError(`--blend-words "${text}" has an empty word; give comma-separated words, e.g. silver,jeep:Porsche,car.`);
		return words;
	});
};

/** "0.3" or "0.3,0.3" (blend_th; only the first number is the mask threshold). */
const parseBlendThreshold = (text: string): number => {
	const value = toNumber(text.split(',')[0]);
	if (!Number.isFinite(value)) throw optionError(`--blend-th "${text}" is not a number; give the mask threshold, e.g. 0.3 (≥ 1 keeps the source self-attention everywhere).`);
	return value;
};

const parseController = (text: string): ControllerOption => {
	if (!(CONTROLLER_OPTIONS as readonly string[]).includes(text)) throw optionError(`--controller "${text}" is not one of ${CONTROLLER_OPTIONS.join(', ')}.`);
	return text as ControllerOption;
};

const parseOffset = (text: string): {left: number; right: number; top: number; bottom: number} => {
	const parts = text.split(',').map(toNumber);
	if (parts.length !== 4 || parts.some((part) => !Number.isInteger(part) || part < 0)) {
		throw optionError(`--offset "${text}" is not four whole numbers of pixels ≥ 0: give left,right,top,bottom, e.g. 0,0,40,0.`);
	}
	const [left, right, top, bottom] = parts;
	return {left, right, top, bottom};
};

/** A per-prompt option: one value for every prompt, or one per prompt in order. */
const perPrompt = <T>(flag: string, texts: string[] | undefined, prompts: number, parse: (text: string) => T): T[] | null => {
	if (texts === undefined || texts.length === 0) return null;
	if (texts.length !== 1 && texts.length !== prompts) {
		throw optionError(`--${flag} is given ${texts.length} times for ${prompts} prompts: give it once (it applies to every prompt) or once per prompt, in the order of the prompts.`);
	}
	const parsed = texts.map(parse);
	return Array.from({length: prompts}, (_, k) => parsed[texts.length === 1 ? 0 : k]);
};

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

/** [F, 3, S, S] in [-1, 1] → [F, S, S, 3] in [0, 1] (the official tensor_to_numpy). */
const toHwcFrames = (pixels: Float32Array, count: number, size: number): Float32Array => {
	const plane = size * size;
	const out = new Float32Array(count * plane * 3);
	for (let f = 0; f < count; f++) {
		for (let c = 0; c < 3; c++) {
			for (let p = 0; p < plane; p++) out[(f * plane + p) * 3 + c] = Math.min(Math.max(pixels[(f * 3 + c) * plane + p] / 2 + 0.5, 0), 1);
		}
	}
	return out;
};

type FrameSelection = {start: number; count: number | null; stride: number};

/** --frames-tensor: one tensor "images" [F, 3, S, S] in [-1, 1], then the frame selection. */
const readFramesTensor = (file: string, size: number, sizeFrom: string, selection: FrameSelection): {pixels: Float32Array; count: number; frames: number[]} => {
	const resolved = path.resolve(file);
	if (!statSync(resolved, {throwIfNoEntry: false})?.isFile()) {
		throw new FateZeroError('INVALID_INPUT', `--frames-tensor ${resolved} does not exist or is not a file. Pass a safetensors file with one F32 tensor "images" [F, 3, H, W] in [-1, 1].`);
	}
	let index: SafetensorsIndex;
	try {
		index = readSafetensorsIndex(resolved);
	} catch (error) {
		throw new FateZeroError('INVALID_INPUT', `--frames-tensor ${resolved} is not a readable safetensors file (${(error as Error).message})`, {cause: error});
	}
	const entry = index.tensors.get('images');
	if (!entry) {
		const names = [...index.tensors.keys()];
		throw new FateZeroError(
			'INVALID_INPUT',
			`--frames-tensor ${resolved} has no tensor "images" (it has ${names.length === 0 ? 'none' : names.map((name) => JSON.stringify(name)).join(', ')}). Save the frames as one F32 tensor named "images", [F, 3, H, W] in [-1, 1].`,
		);
	}
	const shape = entry.shape;
	if (!FLOAT_DTYPES.has(entry.dtype) || shape.length !== 4 || shape[1] !== 3 || shape[2] !== shape[3] || shape[0] < 1) {
		const what = !FLOAT_DTYPES.has(entry.dtype) ? `is ${entry.dtype}, not floating point` : shape[0] === 0 ? 'has zero frames' : `has shape [${shape.join(', ')}]`;
		throw new FateZeroError('INVALID_INPUT', `--frames-tensor ${resolved}: "images" ${what}. It must be F32 [F, 3, H, W] with F ≥ 1 frames, 3 RGB channels and square frames H = W in [-1, 1].`);
	}
	if (shape[2] !== size) {
		throw new FateZeroError('INVALID_INPUT', `--frames-tensor ${resolved}: "images" has ${shape[2]}×${shape[3]} frames but the size is ${size} (${sizeFrom}). The frames are used as they are: pass --size ${shape[2]}, or save them at ${size}×${size}.`);
	}
	const available = shape[0];
	const {start, stride} = selection;
	const fitting = start < available ? Math.floor((available - 1 - start) / stride) + 1 : 0;
	const count = selection.count ?? fitting;
	if (count < 1 || count > fitting) {
		throw optionError(`Frame selection start=${start} count=${selection.count ?? 'all'} stride=${stride} needs frame ${start + (Math.max(count, 1) - 1) * stride}, but --frames-tensor ${resolved} has ${available} frame${available === 1 ? '' : 's'}. Lower --frames-count or --stride, or start earlier.`);
	}
	const data = readFloatTensor(index, 'images').data;
	const plane = 3 * size * size;
	const frames = Array.from({length: count}, (_, k) => start + k * stride);
	const pixels = new Float32Array(count * plane);
	frames.forEach((frame, k) => pixels.set(data.subarray(frame * plane, (frame + 1) * plane), k * plane));
	let min = Number.POSITIVE_INFINITY;
	let max = Number.NEGATIVE_INFINITY;
	for (const value of pixels) {
		if (Number.isNaN(value)) throw new FateZeroError('INVALID_INPUT', `--frames-tensor ${resolved}: "images" contains NaN. Save finite pixel values in [-1, 1].`);
		if (value < min) min = value;
		if (value > max) max = value;
	}
	// The official preprocessing gives x/255·2−1 exactly in [-1, 1]; a little slack for resampled frames.
	if (min < -1.01 || max > 1.01) {
		throw new FateZeroError('INVALID_INPUT', `--frames-tensor ${resolved}: "images" spans [${min}, ${max}], not [-1, 1]. Scale 8-bit frames as x / 127.5 − 1 (or [0, 1] frames as x · 2 − 1).`);
	}
	return {pixels, count, frames};
};

/** Removes earlier runs' frames (00000.png …) so a folder holds exactly this run's. */
const clearFrameFiles = (dir: string): void => {
	if (!existsSync(dir)) return;
	for (const name of readdirSync(dir)) if (/^\d{5}\.png$/.test(name)) rmSync(path.join(dir, name), {force: true});
};

const STAGE_LABELS: Record<ProgressEvent['stage'], string> = {
	load: 'loading model',
	'encode-prompts': 'encoding prompts',
	'vae-encode': 'encoding frames',
	invert: 'inverting',
	denoise: 'editing',
	'vae-decode': 'decoding',
	write: 'writing',
};

const formatSeconds = (ms: number) => (ms >= 60_000 ? `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s` : `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`);

/** One line on a terminal (stage, step i/N, ETA of the stage), rewritten in place; nothing otherwise. */
const createProgressLine = (stream: NodeJS.WriteStream) => {
	const enabled = stream.isTTY === true;
	let stage = '';
	let stageStart = 0;
	// A stage starts when the previous one reported its last step (its first step then has a real time).
	let lastEvent = performance.now();
	let width = 0;
	const write = (text: string) => {
		if (!enabled) return;
		stream.write(`\r${text.padEnd(width)}`);
		width = text.length;
	};
	return {
		update: (event: ProgressEvent) => {
			const now = performance.now();
			if (event.stage !== stage) {
				stage = event.stage;
				stageStart = lastEvent;
			}
			lastEvent = now;
			const elapsed = now - stageStart;
			const eta = event.step > 0 && event.step < event.total ? `, ETA ${formatSeconds((elapsed / event.step) * (event.total - event.step))}` : '';
			write(`  ${STAGE_LABELS[event.stage]} ${event.step}/${event.total}${eta}`);
		},
		clear: () => {
			if (enabled && width > 0) stream.write(`\r${' '.repeat(width)}\r`);
			width = 0;
		},
	};
};

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
	const {values} = withArgErrors('edit', () =>
		parseArgs({
			args,
			strict: true,
			options: {
				config: {type: 'string'},
				model: {type: 'string'},
				frames: {type: 'string'},
				video: {type: 'string'},
				'frames-tensor': {type: 'string'},
				'source-prompt': {type: 'string'},
				prompt: {type: 'string', multiple: true},
				steps: {type: 'string'},
				guidance: {type: 'string'},
				'cross-replace': {type: 'string', multiple: true},
				'self-replace': {type: 'string', multiple: true},
				reweight: {type: 'string', multiple: true},
				'blend-words': {type: 'string', multiple: true},
				'blend-th': {type: 'string', multiple: true},
				controller: {type: 'string', multiple: true},
				'latent-blend': {type: 'boolean'},
				attention: {type: 'string'},
				'least-sc-channel': {type: 'string'},
				'attention-source': {type: 'string'},
				'storage-precision': {type: 'string'},
				'fusion-max-query-tokens': {type: 'string'},
				'chunk-size': {type: 'string'},
				'memory-budget-mb': {type: 'string'},
				size: {type: 'string'},
				'frames-count': {type: 'string'},
				start: {type: 'string'},
				stride: {type: 'string'},
				offset: {type: 'string'},
				'execution-provider': {type: 'string'},
				'compute-type': {type: 'string'},
				'cache-dir': {type: 'string'},
				out: {type: 'string'},
				'save-latents': {type: 'string'},
				json: {type: 'boolean'},
			},
		}),
	);
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
	if (values.out === undefined) throw optionError('fatezero edit needs --out DIR: the folder the edited frames are written to. Run "fatezero edit --help".');
	const sourcePrompt = values['source-prompt'] ?? config?.dataset.prompt;
	if (sourcePrompt === undefined) throw optionError('fatezero edit needs --source-prompt TEXT: the prompt that describes the input video (or --config with dataset_config.prompt).');
	// the descriptor's own rules (clip-limits.ts), so the CLI accepts exactly what a clip does
	checkPrompt(sourcePrompt, '--source-prompt');
	const prompts = values.prompt ?? config?.edits.map((edit) => edit.prompt) ?? [];
	if (prompts.length === 0) throw optionError('fatezero edit needs at least one --prompt TEXT: the editing prompt(s), or --config with editing_prompts.');
	prompts.forEach((prompt, k) => checkPrompt(prompt, prompts.length === 1 ? '--prompt' : `--prompt ${k + 1}`));
	const edits: FateZeroEdit[] = prompts.map((prompt, k) => {
		if (config && !config.edits[k]) warn(`--prompt ${k} (${JSON.stringify(prompt)}) has no p2p_config entry in the config: the engine's defaults apply (cross and self 0.8, controller auto).`);
		return {...(config?.edits[k] ?? {}), prompt};
	});
	const overrides = {
		crossReplace: perPrompt('cross-replace', values['cross-replace'], prompts.length, parseCrossReplace),
		selfReplace: perPrompt('self-replace', values['self-replace'], prompts.length, (text) => parseWindow('self-replace', text)),
		reweight: perPrompt('reweight', values.reweight, prompts.length, parseReweight),
		blendWords: perPrompt('blend-words', values['blend-words'], prompts.length, parseBlendWords),
		blendThreshold: perPrompt('blend-th', values['blend-th'], prompts.length, parseBlendThreshold),
		controller: perPrompt('controller', values.controller, prompts.length, parseController),
	};
	edits.forEach((edit, k) => {
		for (const [key, list] of Object.entries(overrides)) if (list) (edit as Record<string, unknown>)[key] = list[k];
		// Blend words typed on the command line are meant to mask the self-attention.
		if (overrides.blendWords) edit.blendSelfAttention = overrides.blendWords[k] !== null;
		if (values['latent-blend']) edit.latentBlend = true;
	});
	if (values['latent-blend'] && edits.some((edit) => !edit.blendWords)) warn('--latent-blend has no effect on prompts without blend words (give --blend-words).');

	const steps = integerOption('steps', values.steps, config?.steps ?? 50);
	checkSteps(steps, '--steps');
	const guidance = checkGuidance(numberOption('guidance', values.guidance, config?.guidance ?? 7.5), '--guidance');
	const requestedSource = choiceOption('attention-source', values['attention-source'], ATTENTION_SOURCES, 'recompute');
	const storagePrecision = choiceOption('storage-precision', values['storage-precision'], STORAGE_PRECISIONS, 'float16');
	const fusionMaxQueryTokens = integerOption('fusion-max-query-tokens', values['fusion-max-query-tokens'], OFFICIAL_FUSION_MAX_QUERY_TOKENS);
	const chunkSizeInFrames = values['chunk-size'] === undefined ? null : integerOption('chunk-size', values['chunk-size'], 1);
	const memoryBudgetInMegabytes = values['memory-budget-mb'] === undefined ? undefined : numberOption('memory-budget-mb', values['memory-budget-mb'], 0, {positive: true});
	let attention: ReferenceFrameSpec[] = config ? config.attention : [...ATTENTION_PRESETS.mid];
	if (values.attention !== undefined) {
		const preset = choiceOption('attention', values.attention, Object.keys(ATTENTION_PRESETS) as AttentionPreset[], 'mid');
		attention = [...ATTENTION_PRESETS[preset]];
	}
	const executionProvider = parseExecutionProvider(values['execution-provider'] ?? 'cpu', '--execution-provider');
	const computeType = choiceOption('compute-type', values['compute-type'], ['float32', 'float16'] as const, 'float32');
	const cacheDir = resolveCacheDir(values['cache-dir']);
	const out = path.resolve(values.out);
	const source = chooseSource(values, config);
	const selection: FrameSelection = {
		start: integerOption('start', values.start, config?.dataset.start ?? 0, 0),
		stride: integerOption('stride', values.stride, config?.dataset.stride ?? 1),
		count: values['frames-count'] !== undefined ? integerOption('frames-count', values['frames-count'], 8) : config ? config.dataset.count : source.kind === 'tensor' ? null : 8,
	};
	const crop = values.offset !== undefined ? parseOffset(values.offset) : config?.dataset.crop;

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
	const progress = createProgressLine(process.stderr);
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
		await writePngFrames(sourceDir, toHwcFrames(pixels, frameCount, size), frameCount, size, size);
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
