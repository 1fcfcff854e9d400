import {z} from 'zod';
import {ATTENTION_PRESETS} from './reference-frames.js';
import {CLIP_DEFAULTS} from './clip-defaults.js';
import {CLIP_LIMITS} from './clip-limits.js';

// Every schema below carries its own error text: "expected <this>". The formatter in
// format-schema-issues.ts adds the field path and the offending value, so messages read
// `edit.blendThreshold: expected a number in [0, ∞), got "high"` whatever check failed.

type NumberRule = {min?: number; max?: number; above?: number; int?: boolean; multipleOf?: number};

const numberField = (expected: string, rule: NumberRule) => {
	let schema = z.number({error: expected});
	if (rule.int) schema = schema.int({error: expected});
	if (rule.min !== undefined) schema = schema.min(rule.min, {error: expected});
	if (rule.above !== undefined) schema = schema.gt(rule.above, {error: expected});
	if (rule.max !== undefined) schema = schema.max(rule.max, {error: expected});
	if (rule.multipleOf !== undefined) schema = schema.multipleOf(rule.multipleOf, {error: expected});
	return schema;
};

/** A strict object: a misspelt field is an error naming the known ones, not a silently ignored prop. */
const strictObject = <Shape extends z.ZodRawShape>(shape: Shape, expected: string) =>
	z.strictObject(shape, {
		error: (issue) => {
			if (issue.code !== 'unrecognized_keys') return expected;
			const known = Object.keys(shape);
			const hints = issue.keys.map((k) => {
				const near = closestName(k, known);
				return near ? `"${k}" (did you mean "${near}"?)` : `"${k}"`;
			});
			return `unknown field${issue.keys.length > 1 ? 's' : ''} ${hints.join(', ')}; the known fields are ${known.join(', ')}`;
		},
	});

const editDistance = (a: string, b: string): number => {
	const row = Array.from({length: b.length + 1}, (_, j) => j);
	for (let i = 1; i <= a.length; i++) {
		let diagonal = row[0];
		row[0] = i;
		for (let j = 1; j <= b.length; j++) {
			const above = row[j];
			row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
			diagonal = above;
		}
	}
	return row[b.length];
};

const closestName = (name: string, known: string[]): string | undefined => {
	const scored = known.map((k) => ({k, d: editDistance(name, k)})).sort((x, y) => x.d - y.d);
	return scored[0] && scored[0].d <= Math.max(1, Math.floor(name.length / 4)) ? scored[0].k : undefined;
};

// FateZero matches words by splitting prompts on single spaces (fatezero-spec §2.4), so a
// "word" with whitespace in it can never match and would silently do nothing.
const word = z
	.string({error: 'a single word (no spaces)'})
	.regex(/^\S+$/, {error: 'a single word (no spaces)'});

const checkWordKeys = (record: Record<string, unknown>, ctx: z.RefinementCtx, what: string) => {
	for (const key of Object.keys(record)) {
		if (!/^\S+$/.test(key)) {
			ctx.addIssue({
				code: 'custom',
				path: [key],
				input: record[key],
				message: `${JSON.stringify(key)} is not a single word; ${what} keys are words of the prompt, which FateZero splits on spaces. Give each word its own entry.`,
			});
		}
	}
};

const show = (value: unknown) => JSON.stringify(value);

const fraction = numberField('a number in [0, 1]', {min: 0, max: 1});

const windowExpected = 'a fraction n in [0, 1] (the window [0, n) of the steps) or a window [start, end] with 0 ≤ start ≤ end ≤ 1';
const replaceWindow = z
	.union([fraction, z.tuple([fraction, fraction], {error: windowExpected})], {error: windowExpected})
	.refine((w) => typeof w === 'number' || w[0] <= w[1], {error: (issue) => `${show(issue.input)} starts after it ends; write the window as [start, end] with start ≤ end`});

const crossReplaceExpected = `${windowExpected}, or {"default": window, "<word>": window, …}`;
const crossReplace = z.union(
	[
		replaceWindow,
		z
			.object({default: replaceWindow}, {error: crossReplaceExpected})
			.catchall(replaceWindow)
			.superRefine((value, ctx) => checkWordKeys(value, ctx, 'crossReplace')),
	],
	{error: crossReplaceExpected},
);

const presetNames = Object.keys(ATTENTION_PRESETS) as [keyof typeof ATTENTION_PRESETS, ...(keyof typeof ATTENTION_PRESETS)[]];
const referenceExpected = `"first", "last", "mid" or a whole frame offset such as -1`;
const attentionExpected = `one of ${presetNames.map((p) => `"${p}"`).join(', ')} or a non-empty list of ${referenceExpected}`;
const attention = z.union(
	[
		z.enum(presetNames, {error: attentionExpected}),
		z
			.array(z.union([z.enum(['first', 'last', 'mid']), numberField(referenceExpected, {int: true})], {error: referenceExpected}), {error: attentionExpected})
			.min(1, {error: attentionExpected}),
	],
	{error: attentionExpected},
);

const d = CLIP_DEFAULTS;

// Blank prompts encode to nothing but padding: the edit would silently do nothing.
const promptExpected = `a non-blank prompt of at most ${CLIP_LIMITS.maxPromptChars} characters`;
const prompt = z
	.string({error: promptExpected})
	.max(CLIP_LIMITS.maxPromptChars, {error: promptExpected})
	.refine((text) => text.trim() !== '', {error: (issue) => `${show(issue.input)} is blank; write ${promptExpected}`});

const framesSchema = strictObject(
	{
		start: numberField('a whole number ≥ 0', {int: true, min: 0}).optional().describe(`Index of the first source frame (after sorting a frame folder by name). Default ${d.frames.start}.`),
		count: numberField('a whole number ≥ 1', {int: true, min: 1}).optional().describe(`How many frames to edit. Default ${d.frames.count} (FateZero's own clips); longer clips cost proportionally more.`),
		stride: numberField('a whole number ≥ 1', {int: true, min: 1})
			.optional()
			.describe(`Take every stride-th source frame (FateZero's sampling_rate). Default ${d.frames.stride}. Leave it out when fps is set.`),
		fps: numberField('a frame rate > 0', {above: 0})
			.nullable()
			.optional()
			.describe('Sample the source at this frame rate (frames per second) instead of by stride, e.g. 12 for a 24 fps video at half rate. Default: not set (use stride).'),
	},
	'an object {start, count, stride, fps}',
).superRefine((frames, ctx) => {
	if (frames.fps != null && frames.stride !== undefined && frames.stride !== 1) {
		ctx.addIssue({
			code: 'custom',
			path: ['stride'],
			input: frames.stride,
			message: `${frames.stride} conflicts with frames.fps ${frames.fps}; a clip samples either by stride or by fps. Remove one of them.`,
		});
	}
});

const editSchema = strictObject(
	{
		crossReplace: crossReplace
			.optional()
			.describe(
				`Cross-attention replacement window as a fraction of the steps: n = the first n of the steps, [start, end] = that window, or {"default": window, "<word>": window} for per-word windows. Default ${d.edit.crossReplace}.`,
			),
		selfReplace: replaceWindow
			.optional()
			.describe(`Self-attention fusion window (source self-attention replaces the edit's): n = the first n of the steps, or [start, end]. Default ${d.edit.selfReplace}.`),
		reweight: z
			.record(z.string(), numberField('a factor in [0, ∞)', {min: 0}), {error: 'an object {"<word>": factor}'})
			.superRefine((value, ctx) => checkWordKeys(value, ctx, 'reweight'))
			.optional()
			.describe('Scale the attention of target-prompt words, e.g. {"watercolor": 10} (FateZero eq_params; 2–20 typical, below 1 weakens). Default {} (none).'),
		blendWords: z
			.tuple([z.array(word, {error: 'a list of words'}).min(1, {error: 'a non-empty list of source-prompt words'}), z.array(word, {error: 'a list of words'})], {
				error: 'null or [[source words], [target words]]',
			})
			.nullable()
			.optional()
			.describe(
				'Words bounding the edited region, [[source words], [target words]], e.g. [["jeep"], ["car"]]: self-attention is edited only where the source words attend (shape edits). Default null (no mask: style edits).',
			),
		blendThreshold: numberField('a number in [0, ∞)', {min: 0})
			.optional()
			.describe(`Mask threshold on the normalised source cross-attention of the blend words; 1 or more keeps the source everywhere. Default ${d.edit.blendThreshold}.`),
		controller: z
			.enum(['auto', 'replace', 'refine'], {error: 'one of "auto", "replace", "refine"'})
			.optional()
			.describe(`How source maps carry over: "replace" (word swap; needs equal word counts), "refine" (inserted words keep their own maps), "auto" (replace when the word counts match). Default "${d.edit.controller}".`),
		latentBlend: z
			.boolean({error: 'true or false'})
			.optional()
			.describe(`Also blend latents inside the blend-word mask between 20 % and 80 % of the steps (FateZero's local latent blend; needs blendWords). Default ${d.edit.latentBlend}.`),
	},
	'an object {crossReplace, selfReplace, reweight, blendWords, blendThreshold, controller, latentBlend}',
);

/**
 * The clip descriptor as users write it (composition props, clip.json, variants files): every
 * field except source and the prompts is optional and defaults to CLIP_DEFAULTS. Use it as a
 * Remotion composition schema (its descriptions show in Studio's props editor) or pass a value to
 * `fateZeroClip()` / `parseClipDescriptor()` to get the canonical descriptor.
 */
export const clipDescriptorSchema = strictObject(
	{
		source: z
			.string({error: 'a path to a video file or a folder of frames'})
			.min(1, {error: 'a path to a video file or a folder of frames'})
			.describe('Source footage: a video file or a folder of PNG/JPEG frames. Relative paths resolve against the project root.'),
		sourcePrompt: prompt
			.describe('What the source footage shows, e.g. "a silver jeep driving down a curvy road". Used for the inversion; clips sharing source and source prompt share one inversion.'),
		prompt: prompt
			.describe('What the edited clip should show, e.g. "watercolor painting of a silver jeep driving down a curvy road".'),
		model: z
			.string({error: 'a model folder path, or null'})
			.min(1, {error: 'a model folder path, or null'})
			.nullable()
			.optional()
			.describe('Stable Diffusion 1.x model folder (diffusers layout). Default: the configured model (FATEZERO_MODEL).'),
		frames: framesSchema.optional().describe(`Which source frames to edit. Default ${show(d.frames)}.`),
		size: numberField(`a whole number from ${CLIP_LIMITS.minSize} to ${CLIP_LIMITS.maxSize} that is a multiple of ${CLIP_LIMITS.sizeMultiple}`, {
			int: true,
			min: CLIP_LIMITS.minSize,
			max: CLIP_LIMITS.maxSize,
			multipleOf: CLIP_LIMITS.sizeMultiple,
		})
			.optional()
			.describe(`Square side of the edited frames in pixels (SD-1.x models want multiples of 64, checked against the model before any import). At most ${CLIP_LIMITS.maxSize}. Default ${d.size}.`),
		steps: numberField(`a whole number in [1, ${CLIP_LIMITS.maxSteps}]`, {int: true, min: 1, max: CLIP_LIMITS.maxSteps})
			.optional()
			.describe(`DDIM steps, for the inversion and for the editing (at most ${CLIP_LIMITS.maxSteps}: the scheduler's range). Default ${d.steps}.`),
		guidance: numberField('a number in [0, ∞)', {min: 0})
			.optional()
			.describe(`Classifier-free guidance scale of the editing. Default ${d.guidance}.`),
		seed: numberField('a whole number ≥ 0', {int: true, min: 0})
			.optional()
			.describe(`Random seed. Default ${d.seed}.`),
		edit: editSchema.optional().describe('Attention fusion and prompt-to-prompt parameters (fatezero-spec §2).'),
		attention: attention
			.optional()
			.describe(
				`Reference frames of the spatial-temporal self-attention: "mid" (every frame attends to the middle one, FateZero's style configs), "first-prev" (previous + first), "self-mid" (own + middle, the paper), "self" (per frame), or a custom list such as ["first", -1]. Default "${d.attention}".`,
			),
		leastScChannel: numberField('a whole number ≥ 0', {int: true, min: 0})
			.optional()
			.describe(`UNet levels with fewer channels than this keep per-frame self-attention (FateZero's least_sc_channel). Default ${d.leastScChannel}.`),
		label: z
			.string({error: 'a string'})
			.max(CLIP_LIMITS.maxLabelChars, {error: `a string of at most ${CLIP_LIMITS.maxLabelChars} characters`})
			.optional().describe('A name for progress and tables. Changes no pixels and no cache key.'),
		frameBaseUrl: z
			.url({protocol: /^https?$/, error: 'an absolute http(s) URL such as https://cdn.example.com/fatezero'})
			.optional()
			.describe('Where a deployed bundle reads this clip\'s frames (the folder holding index/, clips/, sources/) instead of the public dir. Changes no pixels and no cache key.'),
	},
	'an object {source, sourcePrompt, prompt, …}',
).superRefine((clip, ctx) => {
	if (clip.edit?.latentBlend && !clip.edit.blendWords) {
		ctx.addIssue({
			code: 'custom',
			path: ['edit', 'latentBlend'],
			input: clip.edit.latentBlend,
			message: 'true needs edit.blendWords, from which the latent blend builds its mask. Set edit.blendWords or remove latentBlend.',
		});
	}
});

/** The descriptor as written: all but source and prompts optional. */
export type ClipDescriptorInput = z.input<typeof clipDescriptorSchema>;
