import {BYTE_TO_CHAR} from '../diffusion/clip-tokenizer.js';

/**
 * A small CLIP-layout BPE vocabulary for generated test models (the real 49,408-token vocab
 * cannot be downloaded here). Same structure as CLIP's: the 256 byte characters, the same with
 * `</w>`, learned merges, then `<|startoftext|>` and `<|endoftext|>`. The merges are learned
 * from a fixed corpus of prompt words, so common prompt words become single tokens as in CLIP.
 */
const CORPUS = `a photo of the cat dog car jeep silver porsche driving down curvy road in countryside
watercolor painting oil van gogh style ukiyo-e pokemon cartoon man surfing on wave ocean sea
swan swimming lake flamingo white black red blue green yellow orange purple pink brown golden
train mountain forest snow winter summer night sunset sky cloud city street building house
a an and with by at from to on under over beautiful cinematic detailed high quality anime
sketch pencil drawing pixel art lego toy robot astronaut horse bird fish flower tree river`;

const MERGE_COUNT = 320;

export type SyntheticVocab = {vocab: Record<string, number>; merges: string[]};

export const buildSyntheticClipVocab = (): SyntheticVocab => {
	const counts = new Map<string, number>();
	for (const word of CORPUS.split(/\s+/).filter(Boolean)) counts.set(word, (counts.get(word) ?? 0) + 1);
	// each word as byte characters, the last one carrying CLIP's end-of-word marker
	let words = [...counts].map(([word, count]) => {
		const chars = [...new TextEncoder().encode(word)].map((byte) => BYTE_TO_CHAR[byte]);
		chars[chars.length - 1] += '</w>';
		return {symbols: chars, count};
	});
	const merges: string[] = [];
	for (let m = 0; m < MERGE_COUNT; m++) {
		const pairs = new Map<string, number>();
		for (const {symbols, count} of words) {
			for (let i = 0; i < symbols.length - 1; i++) {
				const pair = `${symbols[i]} ${symbols[i + 1]}`;
				pairs.set(pair, (pairs.get(pair) ?? 0) + count);
			}
		}
		// most frequent pair; ties broken by the pair text so the vocabulary is deterministic
		let best: string | null = null;
		for (const [pair, count] of pairs) {
			const bestCount = best === null ? -1 : pairs.get(best)!;
			if (count > bestCount || (count === bestCount && pair < best!)) best = pair;
		}
		if (best === null) break;
		merges.push(best);
		const [left, right] = best.split(' ');
		words = words.map(({symbols, count}) => {
			const merged: string[] = [];
			for (let i = 0; i < symbols.length; i++) {
				if (i < symbols.length - 1 && symbols[i] === left && symbols[i + 1] === right) {
					merged.push(left + right);
					i++;
				} else {
					merged.push(symbols[i]);
				}
			}
			return {symbols: merged, count};
		});
	}
	const tokens = [...BYTE_TO_CHAR, ...BYTE_TO_CHAR.map((c) => `${c}</w>`), ...merges.map((pair) => pair.replace(' ', ''))];
	const vocab: Record<string, number> = {};
	for (const token of tokens) if (!(token in vocab)) vocab[token] = Object.keys(vocab).length;
	vocab['<|startoftext|>'] = Object.keys(vocab).length;
	vocab['<|endoftext|>'] = Object.keys(vocab).length;
	return {vocab, merges};
};
