import {FateZeroError} from '../errors/fatezero-error.js';

/**
 * One entry of FateZero's `SparseCausalAttention_index` (fatezero-spec §3.1): a named frame or a
 * frame offset relative to the query frame, clipped to the clip.
 */
export type ReferenceFrameSpec = 'first' | 'last' | 'mid' | 'middle' | number;

/** The attention presets of the clip descriptor, as reference lists. */
export const ATTENTION_PRESETS = {
	/** Official style/attribute configs: every frame attends to the middle frame. */
	mid: ['mid'],
	/** Official default `[-1, 'first']`: previous frame (frame 0 uses itself), then frame 0. */
	'first-prev': [-1, 'first'],
	/** The paper's formula: the frame itself plus the middle frame. */
	'self-mid': [0, 'mid'],
	/** Plain per-frame SD self-attention. */
	self: [0],
} as const satisfies Record<string, readonly ReferenceFrameSpec[]>;

export type AttentionPreset = keyof typeof ATTENTION_PRESETS;

const resolveOne = (spec: ReferenceFrameSpec, frame: number, frames: number): number => {
	if (typeof spec === 'number') {
		if (!Number.isInteger(spec)) {
			throw new FateZeroError('INVALID_OPTION', `Reference frame offset ${spec} is not an integer. Use whole frame offsets such as -1 or 0.`);
		}
		return Math.min(Math.max(frame + spec, 0), frames - 1);
	}
	switch (spec) {
		case 'first':
			return 0;
		case 'last':
			return frames - 1;
		case 'mid':
		case 'middle':
			return Math.floor((frames - 1) / 2);
		default:
			throw new FateZeroError(
				'INVALID_OPTION',
				`Unknown reference frame ${JSON.stringify(spec)}. Use 'first', 'last', 'mid' or an integer offset such as -1.`,
			);
	}
};

/**
 * The `reference_frames` table the UNet graph takes: row r, column f = the frame whose keys and
 * values the r-th reference of frame f reads. Its column count is the clip's frame count.
 */
export const referenceFrameTable = (specs: readonly ReferenceFrameSpec[], frames: number): number[][] => {
	if (!Number.isInteger(frames) || frames < 1) {
		throw new FateZeroError('INVALID_OPTION', `A clip needs at least one frame; got ${frames}.`);
	}
	if (specs.length === 0) {
		throw new FateZeroError('INVALID_OPTION', 'The reference frame list is empty. Use e.g. ["mid"] or [-1, "first"].');
	}
	return specs.map((spec) => Array.from({length: frames}, (_, f) => resolveOne(spec, f, frames)));
};
