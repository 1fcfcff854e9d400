import type {ClipTokenizer} from '../../diffusion/clip-tokenizer.js';
import {FateZeroError} from '../../errors/fatezero-error.js';

/**
 * What the prompt-to-prompt computations need from the tokenizer. `ClipTokenizer` has it; its
 * `wordTokenIndices` is ptp_utils.get_word_inds (fatezero-spec §2.4, "Word→token indices").
 */
export type PromptTokenizer = Pick<ClipTokenizer, 'maxLength' | 'encode' | 'tokenize' | 'wordTokenIndices'>;

/** A word of a prompt, by its text (every exact occurrence) or by its index in `prompt.split(' ')`. */
export type PromptWord = string | number;

/**
 * The words of a prompt as the official code counts them: `prompt.split(' ')`, single spaces only.
 * "countryside," is one word, and a double space makes an empty word (so it changes the count that
 * picks Replace or Refine, spec §2.1).
 */
export const promptWords = (prompt: string): string[] => prompt.split(' ');

export const wordCount = (prompt: string): number => promptWords(prompt).length;

/**
 * Token positions (bos = 0) of `word` in `prompt`, as get_word_inds returns them, keeping only
 * positions that exist in the encoder's `tokenizer.maxLength` (77) columns. The official code
 * indexes its 77-wide tensors with the raw positions and raises IndexError past 76; only
 * prompts longer than 75 CLIP tokens reach that, and the encoder never sees those tokens.
 */
export const wordPositions = (tokenizer: PromptTokenizer, prompt: string, word: PromptWord): number[] =>
	tokenizer.wordTokenIndices(prompt, word).filter((position) => position < tokenizer.maxLength);

/** Shows a word in a message: quoted text, or "word #3 ("jeep")" for an index. */
export const describeWord = (prompt: string, word: PromptWord): string =>
	typeof word === 'string' ? JSON.stringify(word) : `word #${word}${word < wordCount(prompt) ? ` (${JSON.stringify(promptWords(prompt)[word])})` : ''}`;

/** A word option must be a string or a whole word index ≥ 0. */
export const checkWord = (option: string, word: unknown): PromptWord => {
	if (typeof word === 'string') return word;
	if (typeof word === 'number' && Number.isInteger(word) && word >= 0) return word;
	throw new FateZeroError(
		'INVALID_OPTION',
		`${option} is ${typeof word === 'number' ? String(word) : (JSON.stringify(word) ?? String(word))}; a word must be a string (matched exactly against the prompt's space-separated words) or a word index ≥ 0.`,
	);
};

/**
 * The near misses a user most likely meant, for a word that is not found: the prompt's words
 * that equal it ignoring case and surrounding punctuation ("countryside" → "countryside,",
 * "porsche" → "Porsche"). The official matching is exact, so these do not match.
 */
export const nearMisses = (prompt: string, word: string): string[] => {
	const loose = (text: string) => text.toLowerCase().replace(/^[\p{P}\p{S}]+|[\p{P}\p{S}]+$/gu, '');
	const key = loose(word);
	if (key === '') return [];
	return [...new Set(promptWords(prompt).filter((candidate) => candidate !== word && loose(candidate) === key))];
};

/** " Did you mean "countryside,"?" when a missing word has near misses in the prompt, else "". */
export const didYouMean = (prompt: string, word: PromptWord): string => {
	if (typeof word !== 'string') return '';
	const candidates = nearMisses(prompt, word);
	return candidates.length === 0 ? '' : ` Did you mean ${candidates.map((candidate) => JSON.stringify(candidate)).join(' or ')}?`;
};

/** The tokenizer's truncation warning for each of the two prompts that has one (prompts over 75 tokens). */
export const promptTruncationWarnings = (tokenizer: PromptTokenizer, source: string, target: string): string[] =>
	(
		[
			['source', source],
			['target', target],
		] as const
	).flatMap(([side, prompt]) => {
		const warning = tokenizer.encode(prompt).warning;
		return warning ? [`${side} prompt: ${warning}`] : [];
	});
