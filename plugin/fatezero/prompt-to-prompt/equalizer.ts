import {FateZeroError} from '../../errors/fatezero-error.js';
import {checkWord, describeWord, didYouMean, wordPositions, type PromptTokenizer, type PromptWord} from './prompt-words.js';

/** FateZero's `eq_params`: scale the cross-attention columns of these target words by these values. */
export type ReweightOptions = {
	/** Words of the TARGET prompt, by exact text or word index; one word may be given bare. */
	words: PromptWord | readonly PromptWord[];
	/** One factor per word (typically 2–20); a single number applies to a single word. */
	values: number | readonly number[];
};

export type Equalizer = {
	/** 1 everywhere except the reweighted words' token columns. // [77] */
	values: Float32Array;
	/** Words matching no token of the target prompt (the official code ignores them silently). */
	notFound: PromptWord[];
	/** Pairing problems the official code also passes over silently (extra words or values). */
	warnings: string[];
};

/**
 * attention_util.get_equalizer(target, words, values) (fatezero-spec §2.4, Reweight): ones(77),
 * then for each (word, value) pair, in order, the word's token columns in the target prompt are
 * set to value (a later word overrides an earlier one on shared tokens). Words are matched with
 * get_word_inds: exact, case-sensitive, single-space split ("Porsche" ≠ "porsche").
 *
 * Quirk "zip truncation": words and values are paired with Python's zip, so extra values (the
 * shipped jeep_watercolor config gives words [watercolor], values [10, 10]) or extra words are
 * dropped; we reproduce it and add a warning.
 */
export const equalizer = (tokenizer: PromptTokenizer, target: string, options: ReweightOptions): Equalizer => {
	const words = (Array.isArray(options.words) ? options.words : [options.words]) as readonly unknown[];
	const values = (Array.isArray(options.values) ? options.values : [options.values]) as readonly unknown[];
	const checkedWords = words.map((word, index) => checkWord(`reweight.words[${index}]`, word));
	values.forEach((value, index) => {
		if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
			throw new FateZeroError(
				'INVALID_OPTION',
				`reweight.values[${index}] is ${typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value))}; it must be a finite number ≥ 0 that multiplies the word's cross-attention (FateZero's configs use 2–20, usually 10).`,
			);
		}
	});
	const warnings: string[] = [];
	if (words.length !== values.length) {
		const extra = words.length > values.length ? `words ${JSON.stringify(words.slice(values.length))} are` : `values ${JSON.stringify(values.slice(words.length))} are`;
		warnings.push(
			`reweight has ${words.length} word(s) but ${values.length} value(s): the extra ${extra} ignored, as the official code's zip() does. Give one value per word.`,
		);
	}
	const out = new Float32Array(tokenizer.maxLength).fill(1); // [77]
	const notFound: PromptWord[] = [];
	const pairs = Math.min(checkedWords.length, values.length);
	for (let k = 0; k < pairs; k++) {
		const positions = wordPositions(tokenizer, target, checkedWords[k]);
		if (positions.length === 0) notFound.push(checkedWords[k]);
		for (const position of positions) out[position] = values[k] as number;
	}
	for (const word of notFound) {
		warnings.push(
			`reweight word ${describeWord(target, word)} is not in the target prompt "${target}", so it reweights nothing (the official code ignores it silently).${didYouMean(target, word)} ` +
				'Words match the prompt\'s space-separated words exactly (case and punctuation included).',
		);
	}
	return {values: out, notFound, warnings};
};
