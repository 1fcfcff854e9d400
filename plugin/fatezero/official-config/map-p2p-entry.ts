import {checkStepWindow, type CrossReplaceSteps, type StepWindow} from '../prompt-to-prompt/time-windows.js';
import type {BlendWords} from '../prompt-to-prompt/blend-words.js';
import {controllerFromOfficial} from '../prompt-to-prompt/choose-controller.js';
import type {ReweightOptions} from '../prompt-to-prompt/equalizer.js';
import type {PromptWord} from '../prompt-to-prompt/prompt-words.js';
import type {FateZeroEdit} from '../fatezero-edit.js';
import {formatKeyPath, type KeySegment} from './config-key-path.js';
import {applyKeyRules, checkResolved, configError, isPlainMapping, readBoolean, readList, readMapping, readNumber, type ConfigReport, type KeyRules} from './config-values.js';
import {OFFICIAL_DEFAULTS} from './official-defaults.js';

const RENAMED = (name: string) => ({
	warning: `the pre-release name of ${name}; the released FateZero code ignores it, and so does this port. Write ${name} instead.`,
});

const P2P_KEYS: KeyRules = {
	is_replace_controller: 'used',
	cross_replace_steps: 'used',
	self_replace_steps: 'used',
	eq_params: 'used',
	blend_words: 'used',
	blend_self_attention: 'used',
	blend_latents: 'used',
	blend_th: 'used',
	use_inversion_attention: 'no effect per entry: the official sample logger overwrites it with editing_config.use_inversion_attention.',
	save_self_attention: 'no effect: the official sample logger sets it itself.',
	disk_store: 'no effect on results: it only moves the official attention store to disk (--attention-source stored is this port\'s low-memory mode).',
	masked_self_attention: RENAMED('blend_self_attention'),
	bend_th: RENAMED('blend_th'),
	masked_latents: RENAMED('blend_latents'),
};

const readWindow = (value: unknown, path: readonly KeySegment[]): StepWindow => {
	checkResolved(value, path);
	if (Array.isArray(value)) value.forEach((end, i) => checkResolved(end, [...path, i]));
	const [start, end] = checkStepWindow(formatKeyPath(path), value);
	return typeof value === 'number' ? end : [start, end];
};

/** cross_replace_steps: a window, or {default_: window, <target word>: window, …}. */
const readCrossReplace = (value: unknown, path: readonly KeySegment[]): CrossReplaceSteps => {
	checkResolved(value, path);
	if (!isPlainMapping(value)) return readWindow(value, path);
	return Object.fromEntries(Object.entries(value).map(([word, window]) => [word, readWindow(window, [...path, word])]));
};

const readWord = (value: unknown, path: readonly KeySegment[]): PromptWord => {
	checkResolved(value, path);
	if (typeof value === 'string') return value;
	if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
	throw configError(path, value, 'not a word', 'Write a word of the prompt as text (exact, case and punctuation included) or a word index ≥ 0.');
};

/** A list of words, or one bare word (get_equalizer and SpatialBlender both accept that). */
const readWords = (value: unknown, path: readonly KeySegment[]): PromptWord[] => {
	checkResolved(value, path);
	if (Array.isArray(value)) return value.map((word, i) => readWord(word, [...path, i]));
	return [readWord(value, path)];
};

const readReweight = (value: unknown, path: readonly KeySegment[]): ReweightOptions => {
	const mapping = readMapping(value, path, 'Write eq_params: {words: ["watercolor"], values: [10]}.');
	for (const key of ['words', 'values']) {
		if (!Object.hasOwn(mapping, key)) throw configError([...path, key], undefined, 'required when eq_params is given', 'Write eq_params: {words: ["watercolor"], values: [10]} (one value per word).');
	}
	const words = readWords(mapping.words, [...path, 'words']);
	const rawValues = mapping.values;
	checkResolved(rawValues, [...path, 'values']);
	const values = (Array.isArray(rawValues) ? rawValues : [rawValues]).map((v, i) =>
		readNumber(v, Array.isArray(rawValues) ? [...path, 'values', i] : [...path, 'values'], {min: 0, todo: 'Give a factor ≥ 0 per word; FateZero\'s configs use 2–20, usually 10.'}),
	);
	return {words, values};
};

const readBlendWords = (value: unknown, path: readonly KeySegment[]): BlendWords | null => {
	checkResolved(value, path);
	// make_controller: `blend_words is None or blend_words == 'None'` means no blending.
	if (value === null || value === 'None') return null;
	const todo = 'Write [[source words], [target words]], e.g. [["silver", "jeep"], ["Porsche", "car"]], or [[source words]] alone.';
	const entries = readList(value, path, todo);
	if (entries.length === 0 || entries.length > 2) throw configError(path, value, `it has ${entries.length} entries`, todo);
	return entries.map((entry, i) => readWords(entry, [...path, i]));
};

const readBlendThreshold = (value: unknown, path: readonly KeySegment[], report: ConfigReport): number => {
	checkResolved(value, path);
	const todo = 'Write blend_th: [0.3, 0.3] (the first number is the mask threshold; ≥ 1 keeps the source self-attention everywhere).';
	if (!Array.isArray(value)) return readNumber(value, path, {todo});
	if (value.length === 0 || value.length > 2) throw configError(path, value, `it has ${value.length} numbers`, todo);
	const [first, second] = value.map((th, i) => readNumber(th, [...path, i], {todo}));
	if (second !== undefined && second !== first) {
		report.notes.push(`${formatKeyPath([...path, 1])} (${second}) only thresholds subtraction words, which FateZero never sets; the mask uses ${formatKeyPath([...path, 0])} = ${first}.`);
	}
	return first;
};

/**
 * One `editing_config.p2p_config[k]` entry → the engine's edit for editing prompt k
 * (p2preplace_edit + make_controller, fatezero-spec §2.1). Keys left out take the official
 * defaults; an entry that is missing altogether (`entry` undefined) is all defaults.
 */
export const mapP2pEntry = (entry: unknown, path: readonly KeySegment[], prompt: string, report: ConfigReport): FateZeroEdit => {
	const where = formatKeyPath(path);
	const mapping: Record<string, unknown> = entry === undefined || entry === null ? {} : readMapping(entry, path, 'Write the entry as a mapping: {cross_replace_steps: {default_: 0.8}, self_replace_steps: 0.8, …}.');
	applyKeyRules(mapping, path, P2P_KEYS, report);
	const has = (key: string) => Object.hasOwn(mapping, key);

	for (const key of ['cross_replace_steps', 'self_replace_steps'] as const) {
		if (!has(key) && entry !== undefined) {
			const fallback = key === 'cross_replace_steps' ? OFFICIAL_DEFAULTS.crossReplaceSteps : OFFICIAL_DEFAULTS.selfReplaceSteps;
			report.warnings.push(`${where}.${key} is missing, which the official code requires (it would stop with a KeyError); using ${fallback}.`);
		}
	}
	const isReplace = has('is_replace_controller') && mapping.is_replace_controller !== null ? readBoolean(mapping.is_replace_controller, [...path, 'is_replace_controller']) : OFFICIAL_DEFAULTS.isReplaceController;
	const crossReplace = has('cross_replace_steps') ? readCrossReplace(mapping.cross_replace_steps, [...path, 'cross_replace_steps']) : OFFICIAL_DEFAULTS.crossReplaceSteps;
	const selfReplace = has('self_replace_steps') ? readWindow(mapping.self_replace_steps, [...path, 'self_replace_steps']) : OFFICIAL_DEFAULTS.selfReplaceSteps;
	const reweight = has('eq_params') && mapping.eq_params !== null ? readReweight(mapping.eq_params, [...path, 'eq_params']) : null;
	const blendWords = has('blend_words') ? readBlendWords(mapping.blend_words, [...path, 'blend_words']) : null;
	const flag = (key: string, fallback: boolean) => (has(key) && mapping[key] !== null ? readBoolean(mapping[key], [...path, key]) : fallback);
	const blendSelfAttention = flag('blend_self_attention', OFFICIAL_DEFAULTS.blendSelfAttention);
	const latentBlend = flag('blend_latents', OFFICIAL_DEFAULTS.blendLatents);
	const blendThreshold = has('blend_th') ? readBlendThreshold(mapping.blend_th, [...path, 'blend_th'], report) : OFFICIAL_DEFAULTS.blendTh;

	if (blendWords !== null && !blendSelfAttention && !latentBlend) {
		report.warnings.push(
			`${where}.blend_words has no effect: neither blend_self_attention nor blend_latents is true, so the official code builds no blend mask (and replaces the self-attention everywhere in the window). Add blend_self_attention: True to keep the edit's own self-attention inside the blend words' mask.`,
		);
	}
	if (blendWords === null && (blendSelfAttention || latentBlend)) {
		report.notes.push(`${where}: ${blendSelfAttention ? 'blend_self_attention' : 'blend_latents'} has no effect without blend_words (as in the official code).`);
	}
	return {
		prompt,
		crossReplace,
		selfReplace,
		reweight,
		blendWords,
		blendThreshold,
		blendSelfAttention,
		latentBlend,
		controller: controllerFromOfficial(isReplace),
	};
};
