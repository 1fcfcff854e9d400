import type {AttentionPreset} from './reference-frames.js';

/**
 * The canonical clip descriptor: what `fateZeroClip()` returns, every default applied and every
 * equivalent spelling reduced to one form. It is plain JSON, so it travels unchanged through
 * composition props, `fatezero run clip.json`, variants files and the Studio job server.
 */

/**
 * A fraction of the denoising steps: `n` means the window [0, n), `[a, b]` the window [a, b), both
 * as fractions of the step count (fatezero-spec §2.3). Canonically `[0, n]` is written `n`.
 */
export type ReplaceWindow = number | [number, number];

/** Cross-attention replacement: one window, or a default window plus per-word windows. */
export type CrossReplace = ReplaceWindow | ({default: ReplaceWindow} & {[word: string]: ReplaceWindow});

/** A reference frame of the spatial-temporal self-attention: a named frame or an offset. */
export type AttentionReference = 'first' | 'last' | 'mid' | number;

/** A preset name, or a custom reference list (canonically a list equal to a preset is its name). */
export type ClipAttention = AttentionPreset | AttentionReference[];

export type ClipController = 'auto' | 'replace' | 'refine';

export type ClipFrames = {
	/** Index of the first source frame. */
	start: number;
	/** Number of frames to edit. */
	count: number;
	/** Take every stride-th source frame (FateZero's sampling_rate). Always 1 when fps is set. */
	stride: number;
	/** Sample the source at this frame rate instead of by stride; null = use stride. */
	fps: number | null;
};

export type ClipEdit = {
	crossReplace: CrossReplace;
	selfReplace: ReplaceWindow;
	/** Word of the target prompt → attention factor. */
	reweight: {[word: string]: number};
	/** [source words, target words] that bound the edited region, or null for no mask. */
	blendWords: [string[], string[]] | null;
	blendThreshold: number;
	controller: ClipController;
	latentBlend: boolean;
};

export type ClipDescriptor = {
	source: string;
	sourcePrompt: string;
	prompt: string;
	/** The model folder as written, or null for the configured default (resolved in Node). */
	model: string | null;
	frames: ClipFrames;
	size: number;
	steps: number;
	guidance: number;
	seed: number;
	edit: ClipEdit;
	attention: ClipAttention;
	leastScChannel: number;
	/** A name for people (progress, tables); not part of any key. */
	label?: string;
	/** Read frames from this URL (a copy of the public `fatezero/` folder) instead of the public dir; not part of any key. */
	frameBaseUrl?: string;
};
