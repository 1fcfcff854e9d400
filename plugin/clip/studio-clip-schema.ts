import {zTextarea} from '@remotion/zod-types';
import {z} from 'zod';
import {CLIP_DEFAULTS} from './clip-defaults.js';
import type {AttentionReference, ClipDescriptor, CrossReplace, ReplaceWindow} from './clip-descriptor.js';
import {fateZeroClip} from './fatezero-clip.js';
import {ATTENTION_PRESETS, type AttentionPreset} from './reference-frames.js';

/**
 * The clip descriptor in a form Remotion Studio 4.0.529's props panel can edit: Studio edits
 * strings, numbers, booleans, enums, objects and arrays of objects, but not unions or records,
 * and saves only literal defaultProps. So windows are plain start/end numbers, per-word windows
 * and reweights arrays of {word, …}, attention an enum with a custom field, prompts textareas.
 *
 * It is a second spelling of the same clip, not a new descriptor: studioClipToDescriptor() maps
 * it to the canonical descriptor, so a clip keeps its descriptor key and its cached frames
 * whichever form the props use (<FateZeroClip> and the prerender take both).
 */

const number = (what: string) => z.number().describe(what);

const windowStart = (name: string, window: ReplaceWindow) =>
	number(`Start of the ${name} window, as a fraction of the steps (0–1). Default ${typeof window === 'number' ? 0 : window[0]}.`);
const windowEnd = (name: string, window: ReplaceWindow) =>
	number(`End of the ${name} window, as a fraction of the steps (0–1). Default ${typeof window === 'number' ? window : window[1]}.`);
const crossDefault = CLIP_DEFAULTS.edit.crossReplace as ReplaceWindow;

const ATTENTION_CHOICES = [...(Object.keys(ATTENTION_PRESETS) as AttentionPreset[]), 'custom'] as const;

export const studioClipSchema = z.object({
	source: z.string().describe('Source video file or folder of frames, relative to the project root.'),
	sourcePrompt: zTextarea(),
	prompt: zTextarea(),
	model: z.string().nullable().describe('Model folder; null for the configured one.'),
	frames: z.object({
		start: number('Index of the first source frame.'),
		count: number('Number of frames to edit.'),
		stride: number('Take every stride-th source frame.'),
		fps: z.number().nullable().describe('Sample the source at this frame rate instead of by stride; null uses stride.'),
	}),
	size: number('Square side in pixels (a multiple of 64 for SD-1.x).'),
	steps: number('DDIM steps.'),
	guidance: number('Classifier-free guidance.'),
	seed: number('Seed.'),
	edit: z.object({
		crossReplaceStart: windowStart('cross-attention replacement', crossDefault),
		crossReplaceEnd: windowEnd('cross-attention replacement', crossDefault),
		crossReplaceWords: z
			.array(z.object({word: z.string(), start: z.number(), end: z.number()}))
			.describe('Per-word cross-attention windows (words of the target prompt).'),
		selfReplaceStart: windowStart('self-attention replacement', CLIP_DEFAULTS.edit.selfReplace),
		selfReplaceEnd: windowEnd('self-attention replacement', CLIP_DEFAULTS.edit.selfReplace),
		reweight: z.array(z.object({word: z.string(), weight: z.number()})).describe('Attention factor per word of the target prompt.'),
		blendSourceWords: z.array(z.string()).describe('Source words that bound the edited region (blend mask); empty for no mask.'),
		blendTargetWords: z.array(z.string()).describe('Target words that bound the edited region; empty for no mask.'),
		blendThreshold: number('Blend mask threshold.'),
		controller: z.enum(['auto', 'replace', 'refine']),
		latentBlend: z.boolean(),
	}),
	attention: z.enum(ATTENTION_CHOICES).describe('Reference frames of the spatial-temporal self-attention; "custom" uses customAttention.'),
	customAttention: z.array(z.string()).describe('With attention "custom": references such as "first", "last", "mid" or offsets like "-1".'),
	leastScChannel: number('UNet levels with fewer channels keep per-frame self-attention.'),
	label: z.string().optional().describe('A name for progress and tables. Changes no pixels and no cache key.'),
});

/** What studioClipSchema accepts: plain JSON, literal in defaultProps, editable in Studio. */
export type StudioClip = z.infer<typeof studioClipSchema>;

const toWindow = (start: number, end: number): ReplaceWindow => [start, end];

const fromWindow = (window: ReplaceWindow): [number, number] => (typeof window === 'number' ? [0, window] : [window[0], window[1]]);

const parseReference = (text: string): AttentionReference => (text === 'first' || text === 'last' || text === 'mid' ? text : Number(text));

/** Whether props hold a clip in the Studio form (it has window start/end numbers instead of windows). */
export const isStudioClip = (value: unknown): value is StudioClip =>
	value !== null && typeof value === 'object' && typeof (value as {edit?: {crossReplaceStart?: unknown}}).edit?.crossReplaceStart === 'number';

/** The canonical descriptor of a Studio-form clip (validated by the descriptor schema, defaults applied). */
export const studioClipToDescriptor = (clip: StudioClip): ClipDescriptor => {
	const {edit} = clip;
	const crossWindow = toWindow(edit.crossReplaceStart, edit.crossReplaceEnd);
	const crossReplace: CrossReplace =
		edit.crossReplaceWords.length === 0 ? crossWindow : ({default: crossWindow, ...Object.fromEntries(edit.crossReplaceWords.map((w) => [w.word, toWindow(w.start, w.end)]))} as CrossReplace);
	const blend = edit.blendSourceWords.length > 0 || edit.blendTargetWords.length > 0;
	return fateZeroClip({
		source: clip.source,
		sourcePrompt: clip.sourcePrompt,
		prompt: clip.prompt,
		model: clip.model,
		frames: clip.frames,
		size: clip.size,
		steps: clip.steps,
		guidance: clip.guidance,
		seed: clip.seed,
		edit: {
			crossReplace,
			selfReplace: toWindow(edit.selfReplaceStart, edit.selfReplaceEnd),
			reweight: Object.fromEntries(edit.reweight.map((r) => [r.word, r.weight])),
			blendWords: blend ? [edit.blendSourceWords, edit.blendTargetWords] : null,
			blendThreshold: edit.blendThreshold,
			controller: edit.controller,
			latentBlend: edit.latentBlend,
		},
		attention: clip.attention === 'custom' ? clip.customAttention.map(parseReference) : clip.attention,
		leastScChannel: clip.leastScChannel,
		...(clip.label === undefined ? {} : {label: clip.label}),
	} as never);
};

/** The Studio form of a clip (any descriptor input): what to write as literal defaultProps. */
export const studioClip = (input: Parameters<typeof fateZeroClip>[0] | ClipDescriptor): StudioClip => {
	const clip = fateZeroClip(input as never);
	const cross = clip.edit.crossReplace;
	const crossDefault = typeof cross === 'number' || Array.isArray(cross) ? cross : cross.default;
	const words = typeof cross === 'number' || Array.isArray(cross) ? [] : Object.entries(cross).filter(([word]) => word !== 'default');
	const [crossReplaceStart, crossReplaceEnd] = fromWindow(crossDefault);
	const [selfReplaceStart, selfReplaceEnd] = fromWindow(clip.edit.selfReplace);
	const preset = typeof clip.attention === 'string';
	return {
		source: clip.source,
		sourcePrompt: clip.sourcePrompt,
		prompt: clip.prompt,
		model: clip.model,
		frames: {...clip.frames},
		size: clip.size,
		steps: clip.steps,
		guidance: clip.guidance,
		seed: clip.seed,
		edit: {
			crossReplaceStart,
			crossReplaceEnd,
			crossReplaceWords: words.map(([word, window]) => {
				const [start, end] = fromWindow(window as ReplaceWindow);
				return {word, start, end};
			}),
			selfReplaceStart,
			selfReplaceEnd,
			reweight: Object.entries(clip.edit.reweight).map(([word, weight]) => ({word, weight})),
			blendSourceWords: clip.edit.blendWords?.[0] ?? [],
			blendTargetWords: clip.edit.blendWords?.[1] ?? [],
			blendThreshold: clip.edit.blendThreshold,
			controller: clip.edit.controller,
			latentBlend: clip.edit.latentBlend,
		},
		attention: preset ? (clip.attention as AttentionPreset) : 'custom',
		customAttention: preset ? [] : (clip.attention as AttentionReference[]).map(String),
		leastScChannel: clip.leastScChannel,
		...(clip.label === undefined ? {} : {label: clip.label}),
	};
};
