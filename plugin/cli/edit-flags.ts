import {parseArgs} from 'node:util';
import {checkGuidance, checkPrompt, checkSteps} from '../clip/clip-limits.js';
import {ENGINE_DEFAULTS} from '../clip/engine-defaults.js';
import {ATTENTION_PRESETS, type AttentionPreset, type ReferenceFrameSpec} from '../clip/reference-frames.js';
import {FateZeroError} from '../errors/fatezero-error.js';
import type {FateZeroEdit} from '../fatezero/fatezero-edit.js';
import type {FusionMode, StoragePrecision} from '../fatezero/fusion-io.js';
import type {OfficialConfig} from '../fatezero/official-config/index.js';
import {checkStepWindow, CONTROLLER_OPTIONS, type BlendWords, type ControllerOption, type CrossReplaceSteps, type ReweightOptions, type StepWindow} from '../fatezero/prompt-to-prompt/index.js';
import {parseExecutionProvider} from '../runtime/execution-providers.js';
import {integerOption, withArgErrors} from './parse-cli-args.js';

// `fatezero edit`'s flags, parsed and checked without touching files, the model or the network:
// the command (edit-command.ts) does the I/O. Unit-tested in test/cli/edit-flags.test.ts.

export const EDIT_FLAG_OPTIONS = {
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
	'json-progress': {type: 'boolean'},
} as const;

export type EditFlagValues = ReturnType<typeof parseEditArgs>;

/** argv → flag values (strict: an unknown flag is a usage error pointing at --help). */
export const parseEditArgs = (args: string[]) => withArgErrors('edit', () => parseArgs({args, strict: true, options: EDIT_FLAG_OPTIONS})).values;

const ATTENTION_SOURCES: readonly (FusionMode | 'auto')[] = ['recompute', 'stored', 'auto'];
const STORAGE_PRECISIONS: readonly StoragePrecision[] = ['float16', 'float32'];

const optionError = (message: string) => new FateZeroError('INVALID_OPTION', message);

/** A number typed on the command line; '' is not 0. */
const toNumber = (text: string): number => (text.trim() === '' ? Number.NaN : Number(text.trim()));

export const numberOption = (flag: string, text: string | undefined, fallback: number, rule: {min?: number; positive?: boolean} = {}): number => {
	if (text === undefined) return fallback;
	const value = toNumber(text);
	if (!Number.isFinite(value) || (rule.min !== undefined && value < rule.min) || (rule.positive && value <= 0)) {
		const need = rule.positive ? 'a number > 0' : rule.min !== undefined ? `a number ≥ ${rule.min}` : 'a finite number';
		throw optionError(`--${flag} must be ${need}; got "${text}".`);
	}
	return value;
};

export const choiceOption = <T extends string>(flag: string, text: string | undefined, choices: readonly T[], fallback: T): T => {
	if (text === undefined) return fallback;
	if (!(choices as readonly string[]).includes(text)) throw optionError(`--${flag} "${text}" is not one of ${choices.join(', ')}.`);
	return text as T;
};

/** "0.8" → 0.8, "0.2:0.8" → [0.2, 0.8]; checked like the engine's windows (in [0, 1], start ≤ end). */
export const parseWindow = (flag: string, text: string): StepWindow => {
	const parts = text.split(':').map(toNumber);
	if (parts.length > 2 || parts.some((part) => !Number.isFinite(part))) {
		throw optionError(`--${flag} "${text}" is not a window: give a fraction of the steps such as 0.8 (the first 80 %) or start:end such as 0.2:0.8, with numbers in [0, 1].`);
	}
	const value: StepWindow = parts.length === 1 ? parts[0] : [parts[0], parts[1]];
	checkStepWindow(`--${flag} ${text}`, value);
	return value;
};

/** "0.8" | "0.2:0.8" | "0.8,car=0:0.5" | "default_=0.8,car=0.3". */
export const parseCrossReplace = (text: string): CrossReplaceSteps => {
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
export const parseReweight = (text: string): ReweightOptions | null => {
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
export const parseBlendWords = (text: string): BlendWords | null => {
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
export const parseBlendThreshold = (text: string): number => {
	const value = toNumber(text.split(',')[0]);
	if (!Number.isFinite(value)) throw optionError(`--blend-th "${text}" is not a number; give the mask threshold, e.g. 0.3 (≥ 1 keeps the source self-attention everywhere).`);
	return value;
};

export const parseController = (text: string): ControllerOption => {
	if (!(CONTROLLER_OPTIONS as readonly string[]).includes(text)) throw optionError(`--controller "${text}" is not one of ${CONTROLLER_OPTIONS.join(', ')}.`);
	return text as ControllerOption;
};

export const parseOffset = (text: string): {left: number; right: number; top: number; bottom: number} => {
	const parts = text.split(',').map(toNumber);
	if (parts.length !== 4 || parts.some((part) => !Number.isInteger(part) || part < 0)) {
		throw optionError(`--offset "${text}" is not four whole numbers of pixels ≥ 0: give left,right,top,bottom, e.g. 0,0,40,0.`);
	}
	const [left, right, top, bottom] = parts;
	return {left, right, top, bottom};
};

/** A per-prompt option: one value for every prompt, or one per prompt in order. */
export const perPrompt = <T>(flag: string, texts: string[] | undefined, prompts: number, parse: (text: string) => T): T[] | null => {
	if (texts === undefined || texts.length === 0) return null;
	if (texts.length !== 1 && texts.length !== prompts) {
		throw optionError(`--${flag} is given ${texts.length} times for ${prompts} prompts: give it once (it applies to every prompt) or once per prompt, in the order of the prompts.`);
	}
	const parsed = texts.map(parse);
	return Array.from({length: prompts}, (_, k) => parsed[texts.length === 1 ? 0 : k]);
};

export type EditFlags = {
	out: string;
	sourcePrompt: string;
	edits: FateZeroEdit[];
	steps: number;
	guidance: number;
	requestedSource: FusionMode | 'auto';
	storagePrecision: StoragePrecision;
	fusionMaxQueryTokens: number;
	chunkSizeInFrames: number | null;
	memoryBudgetInMegabytes: number | undefined;
	attention: ReferenceFrameSpec[];
	executionProvider: ReturnType<typeof parseExecutionProvider>;
	computeType: 'float32' | 'float16';
};

/**
 * The run's options from the flags over the official config (when given), with the engine's
 * defaults from ENGINE_DEFAULTS. Warnings (a prompt without a p2p_config entry, --latent-blend
 * without blend words) go to `warn`; errors are INVALID_OPTION naming the flag.
 */
export const resolveEditFlags = (values: EditFlagValues, config: OfficialConfig | null, warn: (message: string) => void = () => {}): EditFlags => {
	if (values.out === undefined) throw optionError('fatezero edit needs --out DIR: the folder the edited frames are written to. Run "fatezero edit --help".');
	const sourcePrompt = values['source-prompt'] ?? config?.dataset.prompt;
	if (sourcePrompt === undefined) throw optionError('fatezero edit needs --source-prompt TEXT: the prompt that describes the input video (or --config with dataset_config.prompt).');
	// the descriptor's own rules (clip-limits.ts), so the CLI accepts exactly what a clip does
	checkPrompt(sourcePrompt, '--source-prompt');
	const prompts = values.prompt ?? config?.edits.map((edit) => edit.prompt) ?? [];
	prompts.forEach((prompt, k) => checkPrompt(prompt, prompts.length === 1 ? '--prompt' : `--prompt ${k + 1}`));
	if (prompts.length === 0) throw optionError('fatezero edit needs at least one --prompt TEXT: the editing prompt(s), or --config with editing_prompts.');
	const edits: FateZeroEdit[] = prompts.map((prompt, k) => {
		if (config && !config.edits[k]) warn(`--prompt ${k} (${JSON.stringify(prompt)}) has no p2p_config entry in the config: the engine's defaults apply (cross and self ${ENGINE_DEFAULTS.crossReplace}, controller ${ENGINE_DEFAULTS.controller}).`);
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

	const steps = checkSteps(integerOption('steps', values.steps, config?.steps ?? ENGINE_DEFAULTS.steps), '--steps');
	const guidance = checkGuidance(numberOption('guidance', values.guidance, config?.guidance ?? ENGINE_DEFAULTS.guidance), '--guidance');
	const requestedSource = choiceOption('attention-source', values['attention-source'], ATTENTION_SOURCES, ENGINE_DEFAULTS.attentionSource);
	const storagePrecision = choiceOption('storage-precision', values['storage-precision'], STORAGE_PRECISIONS, ENGINE_DEFAULTS.storagePrecision);
	const fusionMaxQueryTokens = integerOption('fusion-max-query-tokens', values['fusion-max-query-tokens'], ENGINE_DEFAULTS.fusionMaxQueryTokens);
	const chunkSizeInFrames = values['chunk-size'] === undefined ? null : integerOption('chunk-size', values['chunk-size'], 1);
	const memoryBudgetInMegabytes = values['memory-budget-mb'] === undefined ? undefined : numberOption('memory-budget-mb', values['memory-budget-mb'], 0, {positive: true});
	let attention: ReferenceFrameSpec[] = config ? config.attention : [...ATTENTION_PRESETS[ENGINE_DEFAULTS.attention]];
	if (values.attention !== undefined) {
		const preset = choiceOption('attention', values.attention, Object.keys(ATTENTION_PRESETS) as AttentionPreset[], ENGINE_DEFAULTS.attention);
		attention = [...ATTENTION_PRESETS[preset]];
	}
	const executionProvider = parseExecutionProvider(values['execution-provider'] ?? ENGINE_DEFAULTS.executionProvider, '--execution-provider');
	const computeType = choiceOption('compute-type', values['compute-type'], ['float32', 'float16'] as const, ENGINE_DEFAULTS.computeType);
	return {out: values.out, sourcePrompt, edits, steps, guidance, requestedSource, storagePrecision, fusionMaxQueryTokens, chunkSizeInFrames, memoryBudgetInMegabytes, attention, executionProvider, computeType};
};

export type FrameSelection = {start: number; count: number | null; stride: number};

/** Which frames to take: the flags over the config; a tensor's default is all of its frames. */
export const resolveFrameSelection = (values: EditFlagValues, config: OfficialConfig | null, sourceKind: 'frames' | 'video' | 'tensor'): {selection: FrameSelection; crop: ReturnType<typeof parseOffset> | OfficialConfig['dataset']['crop'] | undefined} => {
	const selection: FrameSelection = {
		start: integerOption('start', values.start, config?.dataset.start ?? 0, 0),
		stride: integerOption('stride', values.stride, config?.dataset.stride ?? 1),
		count: values['frames-count'] !== undefined ? integerOption('frames-count', values['frames-count'], ENGINE_DEFAULTS.frameCount) : config ? config.dataset.count : sourceKind === 'tensor' ? null : ENGINE_DEFAULTS.frameCount,
	};
	const crop = values.offset !== undefined ? parseOffset(values.offset) : config?.dataset.crop;

	return {selection, crop};
};
