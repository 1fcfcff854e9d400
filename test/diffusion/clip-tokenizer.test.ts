import {mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {ClipTokenizer, cleanClipText} from '../../plugin/diffusion/clip-tokenizer.js';
import {loadClipTokenizer} from '../../plugin/diffusion/load-clip-tokenizer.js';
import {isFateZeroError} from '../../plugin/errors/fatezero-error.js';
import {GoldenFile, goldenDir, goldenSkipReason, hasGolden} from '../helpers/golden.js';

// GPT-2's byte alphabet, rebuilt independently of the implementation under test.
const byteAlphabet = (): string[] => {
	const printable = [...range(0x21, 0x7e), ...range(0xa1, 0xac), ...range(0xae, 0xff)];
	const chars: string[] = [];
	let extra = 0;
	for (let b = 0; b < 256; b++) chars.push(String.fromCharCode(printable.includes(b) ? b : 256 + extra++));
	return chars;
};

function range(from: number, to: number): number[] {
	return Array.from({length: to - from + 1}, (_, i) => from + i);
}

/** A CLIP-shaped vocab: bytes, bytes + </w>, a few merges, then the two special tokens. */
const tinyFiles = () => {
	const merges = [
		['c', 'a'],
		['ca', 't</w>'],
		['d', 'o'],
		['do', 'g</w>'],
		['o', 'g</w>'],
		["'", 's</w>'],
	];
	const tokens = byteAlphabet();
	const vocab: Record<string, number> = {};
	for (const token of [...tokens, ...tokens.map((t) => `${t}</w>`), ...merges.map(([a, b]) => a + b), '<|startoftext|>', '<|endoftext|>']) {
		vocab[token] = Object.keys(vocab).length;
	}
	const mergesTxt = `#version: 0.2\n${merges.map((m) => m.join(' ')).join('\n')}\n`;
	return {vocab, mergesTxt};
};

const tiny = (maxLength = 8) => {
	const {vocab, mergesTxt} = tinyFiles();
	return new ClipTokenizer({vocab, merges: mergesTxt, maxLength});
};

describe('ClipTokenizer on a synthetic vocab', () => {
	const {vocab} = tinyFiles();
	const bos = vocab['<|startoftext|>'];
	const eos = vocab['<|endoftext|>'];

	it('applies merges by rank, adds </w> at word ends, pads with eos', () => {
		const tokenizer = tiny();
		const encoding = tokenizer.encode('A cat, dogs');
		expect(encoding.tokens).toEqual(['<|startoftext|>', 'a</w>', 'cat</w>', ',</w>', 'do', 'g', 's</w>', '<|endoftext|>']);
		expect(encoding.ids).toEqual(encoding.tokens.map((t) => vocab[t]));
		expect(encoding.truncated).toBe(false);
		expect(encoding.untruncatedLength).toBe(8);

		// "dog" merges "d o" (rank 2) before "o g</w>" (rank 4), so it becomes one token.
		expect(tokenizer.encode('dog').ids).toEqual([bos, vocab['dog</w>'], eos, eos, eos, eos, eos, eos]);
		// Without "d" in front, "og</w>" is the best merge.
		expect(tokenizer.tokenize('og').tokens).toEqual(['<|startoftext|>', 'og</w>', '<|endoftext|>']);
		expect(tokenizer.tokenize("cat's").tokens.slice(1, -1)).toEqual(['cat</w>', "'s</w>"]);
	});

	it('encodes non-ASCII text as UTF-8 byte characters and decodes it back', () => {
		const tokenizer = tiny(16);
		const {ids, tokens} = tokenizer.tokenize('café');
		expect(tokens.slice(1, -1)).toEqual(['ca', 'f', 'Ã', '©</w>']);
		expect(tokenizer.decode(ids.slice(1, -1))).toBe('café');
		// A token that ends inside a multi-byte character decodes to U+FFFD, as errors="replace" does.
		expect(tokenizer.decodeToken(ids[3])).toBe('\ufffd');
		expect(tokenizer.decodeToken(vocab['cat</w>'])).toBe('cat');
		expect(tokenizer.decodeToken(bos)).toBe('<|startoftext|>');
	});

	it('keeps special tokens typed in the prompt whole', () => {
		const tokenizer = tiny(16);
		expect(tokenizer.tokenize('cat<|endoftext|>dog').ids).toEqual([bos, vocab['cat</w>'], eos, vocab['dog</w>'], eos]);
	});

	it('truncates to bos + maxLength-2 + eos and warns with the number of dropped tokens', () => {
		const tokenizer = tiny(6);
		const warnings: string[] = [];
		const encoding = tokenizer.encode('cat dog cat dog cat dog', {onWarning: (m) => warnings.push(m)});
		expect(encoding.ids).toEqual([bos, vocab['cat</w>'], vocab['dog</w>'], vocab['cat</w>'], vocab['dog</w>'], eos]);
		expect(encoding.truncated).toBe(true);
		expect(encoding.untruncatedLength).toBe(8);
		expect(warnings).toEqual([encoding.warning]);
		expect(encoding.warning).toContain('truncated');
		expect(encoding.warning).toContain('last 2 tokens ("cat dog")');
		expect(tokenizer.encode('cat dog').warning).toBeUndefined();
	});

	it('reproduces get_word_inds, quirks included', () => {
		const tokenizer = tiny(16);
		expect(tokenizer.wordTokenIndices('a cat, dogs', 'dogs')).toEqual([4, 5, 6]);
		expect(tokenizer.wordTokenIndices('a cat, dogs', 'cat,')).toEqual([2, 3]);
		// Punctuation is part of the word: "cat" alone is not in the prompt.
		expect(tokenizer.wordTokenIndices('a cat, dogs', 'cat')).toEqual([]);
		expect(tokenizer.wordTokenIndices('a cat, dogs', 1)).toEqual([2, 3]);
		expect(tokenizer.wordTokenIndices('cat a cat', 'cat')).toEqual([1, 3]);
		// A double space makes an empty word that takes the next token, as in the official code.
		expect(tokenizer.wordTokenIndices('a  cat', 'cat')).toEqual([]);
		expect(tokenizer.wordTokenIndices('a  cat', 1)).toEqual([2]);
		expect(tokenizer.wordTokenIndices('a cat', 7)).toEqual([]);
	});

	it('reads the pad token and max length from tokenizer_config / special_tokens_map', () => {
		const {vocab: v, mergesTxt} = tinyFiles();
		const tokenizer = ClipTokenizer.fromFiles({
			vocabJson: JSON.stringify(v),
			mergesTxt,
			tokenizerConfigJson: JSON.stringify({model_max_length: 5, pad_token: '<|endoftext|>', bos_token: {content: '<|startoftext|>'}}),
			// special_tokens_map.json wins over tokenizer_config.json, as in transformers.
			specialTokensMapJson: JSON.stringify({pad_token: {content: '!', lstrip: false}}),
		});
		expect(tokenizer.padTokenId).toBe(v['!']);
		expect(tokenizer.encode('cat').ids).toEqual([bos, v['cat</w>'], eos, v['!'], v['!']]);
		// A config without a real limit (transformers writes 1e30) falls back to SD's 77.
		const unbounded = ClipTokenizer.fromFiles({vocabJson: JSON.stringify(v), mergesTxt, tokenizerConfigJson: '{"model_max_length": 1e30}'});
		expect(unbounded.encode('cat').ids).toHaveLength(77);
	});

	it('rejects broken vocab files with MODEL_CONFIG_INVALID', () => {
		const {vocab: v, mergesTxt} = tinyFiles();
		const noBos = {...v};
		delete noBos['<|startoftext|>'];
		expect(() => ClipTokenizer.fromFiles({vocabJson: '{not json', mergesTxt, origin: '/m/tokenizer'})).toThrow(/vocab\.json in \/m\/tokenizer is not valid JSON/);
		const error = (() => {
			try {
				return new ClipTokenizer({vocab: noBos, merges: mergesTxt, origin: '/m/tokenizer'});
			} catch (e) {
				return e;
			}
		})();
		expect(isFateZeroError(error, 'MODEL_CONFIG_INVALID')).toBe(true);
		expect((error as Error).message).toContain('vocab.json in /m/tokenizer has no entry for the bos token "<|startoftext|>"');
	});

	it('builds the rank map in time linear in the merges (a CLIP-sized file against an eighth of it)', () => {
		// Relative, so it holds on any machine and under load: parsing 8× the lines may cost at
		// most 3× the linear 8× (a quadratic parser would cost 64×). Best of 7, interleaved.
		const {vocab: v} = tinyFiles();
		const merges = (n: number) => `#version: 0.2\n${Array.from({length: n}, (_, i) => `x${i} y${i}`).join('\n')}`;
		const full = merges(48_894);
		const eighth = merges(6_112);
		const best = {full: Infinity, eighth: Infinity};
		for (let k = 0; k < 7; k++) {
			for (const [name, text] of [['eighth', eighth], ['full', full]] as const) {
				const started = performance.now();
				new ClipTokenizer({vocab: v, merges: text});
				best[name] = Math.min(best[name], performance.now() - started);
			}
		}
		expect(best.full / best.eighth, `best ${best.full.toFixed(1)} ms vs ${best.eighth.toFixed(1)} ms`).toBeLessThan(8 * 3);
	});
});

describe('cleanClipText (ftfy 6.1.1 fix_text + whitespace_clean + lower)', () => {
	// Expected strings were produced by ftfy 6.1.1's fix_text, then re.sub(r"\s+", " ").strip().lower().
	it.each([
		['a man\u2019s hat', "a man's hat"],
		['\u201cquoted\u201d \u2018single\u2019', '"quoted" \'single\''],
		['\ufb01sh \ufb02ower \u0133', 'fish flower ij'],
		['\uff2c\uff2f\uff35\uff24\u3000\uff2e\uff2f\uff29\uff33\uff25\uff33 \uff76\uff80\uff76\uff85', 'loud noises \u30ab\u30bf\u30ab\u30ca'],
		['Tom &amp; Jerry', 'tom & jerry'],
		['a &amp; b <tag>', 'a &amp; b <tag>'],
		['line1 &amp;\nline2 <b>\nline3 &amp;', 'line1 & line2 <b> line3 &amp;'],
		['&AMP; &NBSP;x &Amp; &eacute; &#x41;&#66; &#59; &#128; &#0; &#127;', '& x &amp; \u00e9 ab &#59; \u20ac \ufffd'],
		['tab\there\r\nnew\u2028line\u0085x', 'tab here new line\u2026x'],
		['\u001b[31mred\u001b[0m text', 'red text'],
		['zero\u200bwidth \ufeffbom \u00adsoft', 'zero\u200bwidth bom \u00adsoft'],
		['cafe\u0301 d\u00e9j\u00e0', 'caf\u00e9 d\u00e9j\u00e0'],
		['\u01c5emal \u0149', "d\u017eemal 'n"],
		['x\u0080y\u0093z\u0094', 'x\u20acy"z"'],
		['&amp;amp; twice', '& twice'],
		['\u000bvt\u000cff\u001cfs', 'vt fffs'],
		['\u0130stanbul \u03a3\u0391\u03a3', 'i\u0307stanbul \u03c3\u03b1\u03c2'],
		['  lots   of \u3000 space  ', 'lots of space'],
		['a\u00a0b\u2009c', 'a b c'],
		['&hellip; &mdash;&ndash; &lsquo;x&rsquo; &ldquo;y&rdquo; &copy;&reg;&trade;&deg;&times;', '\u2026 \u2014\u2013 \'x\' "y" \u00a9\u00ae\u2122\u00b0\u00d7'],
		['&SZLIG; &Eacute;COLE', 'ss \u00e9cole'],
	])('%j', (input, expected) => {
		expect(cleanClipText(input)).toBe(expected);
	});
});

describe('loadClipTokenizer errors', () => {
	let dir: string;
	beforeAll(async () => {
		dir = await mkdtemp(path.join(tmpdir(), 'clip-tokenizer-'));
	});
	afterAll(async () => {
		await rm(dir, {recursive: true, force: true});
	});

	it('names the folder and the missing file', async () => {
		const folder = path.join(dir, 'only-vocab');
		await mkdir(folder);
		await writeFile(path.join(folder, 'vocab.json'), JSON.stringify(tinyFiles().vocab));
		const error = await loadClipTokenizer(folder).catch((e: unknown) => e);
		expect(isFateZeroError(error, 'MODEL_FILE_MISSING')).toBe(true);
		expect((error as Error).message).toContain(folder);
		expect((error as Error).message).toContain('merges.txt');
	});

	it('points at tokenizer/ when given the model root', async () => {
		const root = path.join(dir, 'model');
		await mkdir(path.join(root, 'tokenizer'), {recursive: true});
		await writeFile(path.join(root, 'tokenizer', 'vocab.json'), '{}');
		const error = await loadClipTokenizer(root).catch((e: unknown) => e);
		expect(isFateZeroError(error, 'MODEL_FILE_MISSING')).toBe(true);
		expect((error as Error).message).toContain('vocab.json');
		expect((error as Error).message).toContain(`pass ${path.join(root, 'tokenizer')}`);
	});

	it('reports a missing folder', async () => {
		const error = await loadClipTokenizer(path.join(dir, 'nope')).catch((e: unknown) => e);
		expect(isFateZeroError(error, 'MODEL_FOLDER_MISSING')).toBe(true);
		expect((error as Error).message).toContain(path.join(dir, 'nope'));
	});
});

type TokenizerCase = {
	i: number;
	text: string;
	ids_untruncated: number[];
	tokens: string[];
	ids_77: number[];
	truncated: boolean;
	n_tokens_with_bos_eos: number;
	decode_each_token: string[];
};

type P2pPair = {
	pair: number;
	source: string;
	target: string;
	word_inds_source: Record<string, number[]>;
	word_inds_target: Record<string, number[]>;
	word_inds_by_position_source: number[][];
	word_inds_by_position_target: number[][];
};

describe.skipIf(!hasGolden)(`ClipTokenizer vs transformers 4.25 slow CLIPTokenizer on tiny-sd${hasGolden ? '' : ` (${goldenSkipReason})`}`, () => {
	let tokenizer: ClipTokenizer;
	let cases: TokenizerCase[];
	let pairs: P2pPair[];
	beforeAll(async () => {
		tokenizer = await loadClipTokenizer(path.join(goldenDir, 'tiny-sd', 'tokenizer'));
		cases = JSON.parse(await readFile(path.join(goldenDir, 'tokenizer_p2p', 'tokenizer_cases.json'), 'utf8')).cases;
		pairs = JSON.parse(await readFile(path.join(goldenDir, 'tokenizer_p2p', 'p2p_pairs.json'), 'utf8')).pairs;
	});

	it('loads the SD-1.x special tokens from the folder', () => {
		expect(tokenizer.vocabSize).toBe(49408);
		expect([tokenizer.bosTokenId, tokenizer.eosTokenId, tokenizer.padTokenId, tokenizer.maxLength]).toEqual([49406, 49407, 49407, 77]);
	});

	it('gives exactly the reference ids_77 for every case', () => {
		const reference = new GoldenFile('tokenizer_p2p/tokenizer_ids.safetensors').int64('ids_77');
		expect(reference.shape).toEqual([cases.length, 77]);
		for (const c of cases) {
			const expected = Array.from(reference.data.subarray(c.i * 77, (c.i + 1) * 77), Number);
			const encoding = tokenizer.encode(c.text);
			expect(encoding.ids, c.text).toEqual(expected);
			expect(encoding.ids, c.text).toEqual(c.ids_77);
			expect(encoding.truncated, c.text).toBe(c.truncated);
			expect(encoding.untruncatedLength, c.text).toBe(c.n_tokens_with_bos_eos);
		}
	});

	it('gives the reference untruncated ids, BPE tokens and per-token decode', () => {
		for (const c of cases) {
			const {ids, tokens} = tokenizer.tokenize(c.text);
			expect(ids, c.text).toEqual(c.ids_untruncated);
			expect(tokens, c.text).toEqual(c.tokens);
			expect(
				ids.map((id) => tokenizer.decodeToken(id)),
				c.text,
			).toEqual(c.decode_each_token);
			if (!c.truncated) expect(tokenizer.encode(c.text).tokens, c.text).toEqual(c.tokens);
		}
	});

	it('warns when the 96-token prompt is truncated', () => {
		const long = cases.find((c) => c.truncated)!;
		expect(long.n_tokens_with_bos_eos).toBe(98);
		const warnings: string[] = [];
		const encoding = tokenizer.encode(long.text, {onWarning: (m) => warnings.push(m)});
		expect(encoding.truncated).toBe(true);
		expect(encoding.tokens).toEqual([...long.tokens.slice(0, 76), '<|endoftext|>']);
		expect(warnings).toHaveLength(1);
		expect(warnings[0]).toMatch(/has 96 CLIP tokens but the text encoder reads only 75: the prompt was truncated and its last 21 tokens/);
	});

	it('reproduces get_word_inds for every recorded word, by string and by position', () => {
		let checked = 0;
		for (const pair of pairs) {
			for (const side of ['source', 'target'] as const) {
				const prompt = pair[side];
				for (const [word, expected] of Object.entries(pair[`word_inds_${side}`])) {
					expect(tokenizer.wordTokenIndices(prompt, word), `pair ${pair.pair} ${side} "${word}"`).toEqual(expected);
					checked++;
				}
				pair[`word_inds_by_position_${side}`].forEach((expected, position) => {
					expect(tokenizer.wordTokenIndices(prompt, position), `pair ${pair.pair} ${side} #${position}`).toEqual(expected);
					checked++;
				});
			}
			expect(tokenizer.wordTokenIndices(pair.source, 'zebra')).toEqual([]);
		}
		expect(checked).toBe(2527);
	});
});
