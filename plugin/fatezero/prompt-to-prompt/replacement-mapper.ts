import {FateZeroError} from '../../errors/fatezero-error.js';
import {promptWords, type PromptTokenizer} from './prompt-words.js';

/**
 * seq_aligner.get_replacement_mapper for one target (fatezero-spec §2.4, Replace): a [77, 77]
 * matrix M, row = source token, column = target token, used as
 * `A_new[f,h,q,n] = Σ_w A_src[f,h,q,w] · M[w,n]`, so a replaced word's target tokens inherit the
 * attention maps of the source word's tokens.
 *
 * Reproduces the official loop exactly, including two quirks:
 * - "span ratio": when the source and target words have different token counts, every pair of
 *   (source token, target token) gets 1 / (target token count), so a 2-token source word mapped
 *   to a 1-token target word sums both source maps into the one target column; equal counts pair
 *   the tokens one to one.
 * - "diagonal tail": after the last replaced word the official code writes `mapper[j, j]`, not
 *   `mapper[i, j]`, so when a replaced word changed the token count, the tokens after it map to
 *   the same position instead of the shifted one. In jeep_posche ("…countryside," → "…countryside",
 *   tokens 11–12 → 11) the target eos at 12 reads the source "," at 12, not the source eos at 13.
 *
 * Returns a Float32Array of length L·L (L = tokenizer.maxLength = 77), row-major. // [77, 77]
 */
export const replacementMapper = (tokenizer: PromptTokenizer, source: string, target: string): Float32Array => {
	const length = tokenizer.maxLength;
	const wordsSource = promptWords(source);
	const wordsTarget = promptWords(target);
	if (wordsSource.length !== wordsTarget.length) {
		throw new FateZeroError(
			'INVALID_OPTION',
			`controller 'replace' needs prompts with the same number of space-separated words, but the source "${source}" has ${wordsSource.length} ` +
				`and the target "${target}" has ${wordsTarget.length}. Use controller 'refine' (or 'auto', which picks Refine here), or make the word counts equal.`,
		);
	}
	const replaced = wordsTarget.flatMap((word, index) => (word !== wordsSource[index] ? [index] : []));
	// Raw get_word_inds positions: the loop compares span starts with its counter as the official one does.
	const spansSource = replaced.map((index) => tokenizer.wordTokenIndices(source, index));
	const spansTarget = replaced.map((index) => tokenizer.wordTokenIndices(target, index));
	replaced.forEach((index, k) => {
		// Python raises IndexError (empty source span) or ZeroDivisionError (empty target span) here.
		for (const [spans, prompt, side] of [
			[spansSource, source, 'source'],
			[spansTarget, target, 'target'],
		] as const) {
			if (spans[k].length === 0) {
				throw new FateZeroError(
					'INVALID_OPTION',
					`controller 'replace': word #${index} (${JSON.stringify(promptWords(prompt)[index])}) of the ${side} prompt "${prompt}" has no CLIP tokens, ` +
						'so it cannot be mapped to the other prompt (the official code crashes here). Remove repeated, leading or trailing spaces from the prompts, or use controller \'refine\'.',
				);
			}
		}
	});

	const mapper = new Float32Array(length * length); // [77, 77]
	const set = (row: number, column: number, value: number) => {
		// Positions past 76 exist only in over-long prompts; the official code raises IndexError there.
		if (row < length && column < length) mapper[row * length + column] = value;
	};
	let i = 0;
	let j = 0;
	let current = 0;
	while (i < length && j < length) {
		if (current < spansSource.length && spansSource[current][0] === i) {
			const spanSource = spansSource[current];
			const spanTarget = spansTarget[current];
			if (spanSource.length === spanTarget.length) {
				// numpy `mapper[a, b] = 1` with two index arrays pairs them element by element.
				spanSource.forEach((row, k) => set(row, spanTarget[k], 1));
			} else {
				const ratio = 1 / spanTarget.length;
				for (const column of spanTarget) for (const row of spanSource) set(row, column, ratio);
			}
			current++;
			i += spanSource.length;
			j += spanTarget.length;
		} else if (current < spansSource.length) {
			set(i, j, 1);
			i++;
			j++;
		} else {
			set(j, j, 1); // the official "diagonal tail" (see above)
			i++;
			j++;
		}
	}
	return mapper;
};
