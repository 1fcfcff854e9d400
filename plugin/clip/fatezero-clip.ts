import type {z} from 'zod';
import {FateZeroError} from '../errors/fatezero-error.js';
import {ATTENTION_PRESETS, type AttentionPreset} from './reference-frames.js';
import {CLIP_DEFAULTS} from './clip-defaults.js';
import type {ClipAttention, ClipDescriptor, CrossReplace, ReplaceWindow} from './clip-descriptor.js';
import {clipDescriptorSchema, type ClipDescriptorInput} from './clip-descriptor-schema.js';
import {checkJsonDepth} from './clip-limits.js';
import {formatSchemaIssues} from './format-schema-issues.js';

type Parsed = z.output<typeof clipDescriptorSchema>;

// [0, n] and n are the same window (fatezero-spec §2.3); one spelling keeps one key.
const canonicalWindow = (window: ReplaceWindow): ReplaceWindow =>
	typeof window === 'number' ? window : window[0] === 0 ? window[1] : [window[0], window[1]];

const canonicalCrossReplace = (value: CrossReplace): CrossReplace => {
	if (typeof value === 'number' || Array.isArray(value)) return canonicalWindow(value);
	const words = Object.keys(value).filter((k) => k !== 'default');
	// {"default": w} with no per-word window is just w.
	if (words.length === 0) return canonicalWindow(value.default);
	const result: {[word: string]: ReplaceWindow} = {default: canonicalWindow(value.default)};
	for (const word of words) result[word] = canonicalWindow(value[word]);
	return result as CrossReplace;
};

// A custom list equal to a preset is that preset: ["mid"] and "mid" build the same graph.
const canonicalAttention = (value: ClipAttention): ClipAttention => {
	if (typeof value === 'string') return value;
	for (const [name, list] of Object.entries(ATTENTION_PRESETS)) {
		if (list.length === value.length && list.every((ref, i) => ref === value[i])) return name as AttentionPreset;
	}
	return [...value];
};

const applyClipDefaults = (clip: Parsed): ClipDescriptor => {
	const d = CLIP_DEFAULTS;
	const frames = clip.frames ?? {};
	const edit = clip.edit ?? {};
	const blendWords = edit.blendWords ?? d.edit.blendWords;
	const descriptor: ClipDescriptor = {
		source: clip.source,
		sourcePrompt: clip.sourcePrompt,
		prompt: clip.prompt,
		model: clip.model ?? d.model,
		frames: {
			start: frames.start ?? d.frames.start,
			count: frames.count ?? d.frames.count,
			stride: frames.stride ?? d.frames.stride,
			fps: frames.fps ?? d.frames.fps,
		},
		size: clip.size ?? d.size,
		steps: clip.steps ?? d.steps,
		guidance: clip.guidance ?? d.guidance,
		seed: clip.seed ?? d.seed,
		edit: {
			crossReplace: canonicalCrossReplace((edit.crossReplace ?? d.edit.crossReplace) as CrossReplace),
			selfReplace: canonicalWindow(edit.selfReplace ?? d.edit.selfReplace),
			reweight: {...(edit.reweight ?? d.edit.reweight)},
			blendWords: blendWords ? [[...blendWords[0]], [...blendWords[1]]] : null,
			blendThreshold: edit.blendThreshold ?? d.edit.blendThreshold,
			controller: edit.controller ?? d.edit.controller,
			latentBlend: edit.latentBlend ?? d.edit.latentBlend,
		},
		attention: canonicalAttention(clip.attention ?? d.attention),
		leastScChannel: clip.leastScChannel ?? d.leastScChannel,
	};
	if (clip.label !== undefined) descriptor.label = clip.label;
	if (clip.frameBaseUrl !== undefined) descriptor.frameBaseUrl = clip.frameBaseUrl.replace(/\/+$/, '');
	return descriptor;
};

/**
 * Validates any value as a clip descriptor (a parsed clip.json, a variants entry, a job request)
 * and returns the canonical descriptor. `origin` names where the value came from in the error
 * (e.g. "variants.json, variant 3").
 */
export const parseClipDescriptor = (value: unknown, origin?: string): ClipDescriptor => {
	// before zod, which recurses: a hostile nesting must be an error, not a stack overflow
	checkJsonDepth(value, `The clip descriptor${origin ? ` in ${origin}` : ''}`);
	const result = clipDescriptorSchema.safeParse(value);
	if (!result.success) {
		const lines = formatSchemaIssues(result.error.issues, value);
		throw new FateZeroError(
			'INVALID_OPTION',
			`Invalid clip descriptor${origin ? ` in ${origin}` : ''}: ${lines.join('; ')}. Fix ${lines.length > 1 ? 'these fields' : 'this field'}; each field's description in clipDescriptorSchema lists what it accepts.`,
		);
	}
	return applyClipDefaults(result.data);
};

/**
 * Declares an edited clip: validates the descriptor and returns it in canonical form, defaults
 * applied (CLIP_DEFAULTS), equivalent spellings unified. Idempotent, and browser-safe, so a
 * composition and the CLI derive the same descriptor key from it.
 */
export const fateZeroClip = (input: ClipDescriptorInput): ClipDescriptor => parseClipDescriptor(input);
