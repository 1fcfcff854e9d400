import {FateZeroError} from '../../errors/fatezero-error.js';
import {checkWord, describeWord, didYouMean, wordPositions, type PromptTokenizer, type PromptWord} from './prompt-words.js';

/**
 * FateZero's `blend_words`: `[[source words], [target words]]`. Each entry may be a bare word; the
 * target list may be left out (`[['man']]`, as the man_skate configs do).
 */
export type BlendWords = readonly (PromptWord | readonly PromptWord[])[];

export type BlendAlphaRows = {
	/** Row 0: source prompt, row 1: target prompt; 1 on the blend words' tokens. // [2, 77] (official alpha_layers [2, 1, 1, 1, 1, 77]) */
	rows: Float32Array;
	/** Blend words matching no token of their prompt. */
	notFound: {prompt: 'source' | 'target'; word: PromptWord}[];
	warnings: string[];
};

/**
 * SpatialBlender.alpha_layers (fatezero-spec §2.5): one 0/1 row per prompt over its token
 * positions, selecting the cross-attention maps that make the blend mask (row 0 for the
 * self-attention mask, both rows for the latent blend).
 *
 * Quirks reproduced: "absent blend word" — a word not in its prompt selects nothing and the row
 * may stay all zero; the official mask then divides 0 by 0 and keeps source self-attention
 * everywhere without a word (we warn). "zip over prompts" — with a single list `[['man']]` the
 * target row stays all zero.
 */
export const blendAlphaRows = (tokenizer: PromptTokenizer, source: string, target: string, blendWords: BlendWords): BlendAlphaRows => {
	if (!Array.isArray(blendWords) || blendWords.length === 0 || blendWords.length > 2) {
		throw new FateZeroError(
			'INVALID_OPTION',
			`blendWords is ${JSON.stringify(blendWords) ?? String(blendWords)}; give [[source words], [target words]] (e.g. [["silver", "jeep"], ["Porsche", "car"]]) or [[source words]] alone.`,
		);
	}
	const length = tokenizer.maxLength;
	const rows = new Float32Array(2 * length); // [2, 77]
	const notFound: BlendAlphaRows['notFound'] = [];
	const warnings: string[] = [];
	const prompts = [
		['source', source],
		['target', target],
	] as const;
	blendWords.forEach((entry, row) => {
		const [side, prompt] = prompts[row];
		const words = (Array.isArray(entry) ? entry : [entry]) as readonly unknown[];
		words.forEach((word, index) => {
			const checked = checkWord(`blendWords[${row}][${index}]`, word);
			const positions = wordPositions(tokenizer, prompt, checked);
			if (positions.length === 0) {
				notFound.push({prompt: side, word: checked});
				warnings.push(
					`blend word ${describeWord(prompt, checked)} is not in the ${side} prompt "${prompt}", so it selects no cross-attention map` +
						(side === 'source'
							? '; if no source blend word is found the blend mask is empty and the official code keeps the source self-attention everywhere.'
							: ' (the target row is read only by the latent blend, blend_latents).') +
						didYouMean(prompt, checked),
				);
			}
			for (const position of positions) rows[row * length + position] = 1;
		});
	});
	return {rows, notFound, warnings};
};
