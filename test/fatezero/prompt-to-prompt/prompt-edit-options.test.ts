import {readdirSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {describe, expect, it} from 'vitest';
import {isFateZeroError} from '../../../plugin/errors/fatezero-error.js';
import {
	alignTokenIds,
	blendAlphaRows,
	buildPromptEdit,
	chooseController,
	controllerFromOfficial,
	crossReplaceAlpha,
	equalizer,
	refinementMapper,
	replacementMapper,
	selfReplaceWindow,
	type PromptEditOptions,
} from '../../../plugin/fatezero/prompt-to-prompt/index.js';
import {syntheticTokenizer} from './synthetic-tokenizer.js';

const L = 77;
const tokenizer = syntheticTokenizer();

/** Runs fn and returns the FateZeroError it throws (fails if it does not throw one with that code). */
const errorOf = (fn: () => unknown, code = 'INVALID_OPTION'): Error => {
	try {
		fn();
	} catch (error) {
		expect(isFateZeroError(error), String(error)).toBe(true);
		expect((error as {code: string}).code).toBe(code);
		return error as Error;
	}
	throw new Error('expected a FateZeroError');
};

/** The nonzero entries of a [77, 77] mapper as "row→column=value". */
const entries = (mapper: Float32Array, rows = 8): string[] => {
	const out: string[] = [];
	for (let row = 0; row < rows; row++) for (let column = 0; column < L; column++) if (mapper[row * L + column] !== 0) out.push(`${row}→${column}=${mapper[row * L + column]}`);
	return out;
};

const base: PromptEditOptions = {
	tokenizer,
	source: 'a silver jeep driving down a curvy road in the countryside,',
	target: 'a porsche car driving down a curvy road in the countryside',
	crossReplace: {default_: 0.5},
	selfReplace: 0.5,
	steps: 10,
};

describe('replacement mapper (synthetic vocab: "big" is 2 tokens "bi g", "cat" and "dog" 1)', () => {
	it('pairs equal-length spans one to one and keeps the rest on the diagonal', () => {
		const mapper = replacementMapper(tokenizer, 'a cat', 'a dog');
		expect(entries(mapper, 4)).toEqual(['0→0=1', '1→1=1', '2→2=1', '3→3=1']);
		// identity down to the padding
		expect(mapper[76 * L + 76]).toBe(1);
		expect(mapper.reduce((sum, v) => sum + v, 0)).toBe(77);
	});

	it('"span ratio": a 1-token word replaced by 2 tokens gives each target token 1/2 of the source token', () => {
		expect(entries(replacementMapper(tokenizer, 'a cat', 'a big'), 4)).toEqual(['0→0=1', '1→1=1', '2→2=0.5', '2→3=0.5']);
	});

	it('"span ratio": 2 source tokens onto 1 target token both get 1/1 (their maps are summed)', () => {
		expect(entries(replacementMapper(tokenizer, 'a big', 'a cat'), 4)).toEqual(['0→0=1', '1→1=1', '2→2=1', '3→2=1', '3→3=1']);
	});

	it('"diagonal tail": after the last replaced word the tokens map to the same position, not the shifted one', () => {
		// source: bos a bi g cat eos; target: bos a dog cat eos. Shifted would be 4→3 (cat) and 5→4 (eos).
		const mapper = replacementMapper(tokenizer, 'a big cat', 'a dog cat');
		expect(entries(mapper, 6)).toEqual(['0→0=1', '1→1=1', '2→2=1', '3→2=1', '3→3=1', '4→4=1', '5→5=1']);
		// between two replaced words the shift is kept (the official loop uses mapper[i, j] there)
		expect(entries(replacementMapper(tokenizer, 'a big cat', 'a dog bird'), 6)).toEqual(['0→0=1', '1→1=1', '2→2=1', '3→2=1', '4→3=1', '4→4=1', '5→5=1']);
	});

	it('a replaced word without tokens (double space shifts the words) is a clear error, where Python crashes', () => {
		const error = errorOf(() => replacementMapper(tokenizer, 'a  cat', 'a  dog'));
		expect(error.message).toContain('word #2 ("cat") of the source prompt "a  cat" has no CLIP tokens');
		expect(error.message).toContain('Remove repeated, leading or trailing spaces');
	});

	it('unequal word counts are an error naming both counts', () => {
		expect(errorOf(() => replacementMapper(tokenizer, 'a cat', 'a big dog')).message).toContain('the source "a cat" has 2 and the target "a big dog" has 3');
	});
});

describe('refinement mapper', () => {
	it('Needleman–Wunsch tie-breaking as the official traceback (checked against it in Python)', () => {
		expect(alignTokenIds([0, 1, 2], [0, 1, 1, 2])).toEqual([0, 1, -1, 2]);
		expect(alignTokenIds([0, 1, 5, 1, 2], [0, 1, 2])).toEqual([0, 1, 4]);
		expect(alignTokenIds([0, 1, 2, 3], [0, 2, 1, 3])).toEqual([0, 2, -1, 3]);
		expect(alignTokenIds([], [1, 2])).toEqual([-1, -1]);
		expect(alignTokenIds([1, 2], [])).toEqual([]);
	});

	it('inserted words keep their own attention; positions after the target eos map to themselves', () => {
		const {mapper, alphas} = refinementMapper(tokenizer, 'a cat', 'watercolor painting of a cat');
		expect([...mapper.slice(0, 9)]).toEqual([0, -1, -1, -1, 1, 2, 3, 7, 8]);
		expect([...alphas.slice(0, 9)]).toEqual([1, 0, 0, 0, 1, 1, 1, 1, 1]);
		expect(mapper[76]).toBe(76);
	});

	it('prompts over 75 tokens are aligned as the encoder reads them (the official code fails there)', () => {
		const long = Array.from({length: 100}, () => 'cat').join(' ');
		const {mapper, alphas} = refinementMapper(tokenizer, long, `watercolor ${long}`);
		expect(mapper).toHaveLength(L);
		expect(Math.max(...mapper)).toBeLessThan(L);
		expect(alphas[1]).toBe(0);
		expect(alphas[76]).toBe(1);
	});
});

describe('time windows', () => {
	it('cross uses N+1 rows and int(c·(N+1)); self uses int(s·N)', () => {
		const {alpha} = crossReplaceAlpha(tokenizer, 'a cat', 7, 0.5);
		expect(alpha).toHaveLength(8 * L);
		const rows = Array.from({length: 8}, (_, row) => alpha[row * L + 5]);
		expect(rows).toEqual([1, 1, 1, 1, 0, 0, 0, 0]);
		expect(selfReplaceWindow(7, 0.5)).toEqual([0, 3]);
		expect(selfReplaceWindow(50, [0.2, 0.9])).toEqual([10, 45]);
	});

	it('float, tuple and dict forms; a dict without default_ covers the whole run; word windows on target tokens', () => {
		const column = (alpha: Float32Array, position: number) => Array.from({length: 11}, (_, row) => alpha[row * L + position]);
		expect(column(crossReplaceAlpha(tokenizer, 'a cat', 10, [0.2, 0.6]).alpha, 2)).toEqual([0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0]);
		expect(crossReplaceAlpha(tokenizer, 'a cat', 10, 0.4).alpha).toEqual(crossReplaceAlpha(tokenizer, 'a cat', 10, {default_: 0.4}).alpha);
		const withWord = crossReplaceAlpha(tokenizer, 'a cat', 10, {cat: 0.3}).alpha;
		expect(column(withWord, 1)).toEqual(Array(11).fill(1));
		expect(column(withWord, 2)).toEqual([1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
	});

	it('a word window for a word not in the target is reported', () => {
		const result = crossReplaceAlpha(tokenizer, 'a dog', 10, {default_: 0.8, cat: 0.3});
		expect(result.notFound).toEqual(['cat']);
		expect(result.warnings[0]).toContain('crossReplace has a window for "cat", which is not in the target prompt "a dog"');
	});

	it.each([
		[1.2, 'crossReplace is 1.2: outside [0, 1]'],
		[-0.1, 'crossReplace is -0.1: outside [0, 1]'],
		[Number.NaN, 'crossReplace is NaN: not a number'],
		[[0.6, 0.2], 'crossReplace is [0.6,0.2]: start is after end'],
		[[0.1], 'crossReplace is [0.1]: not a fraction or a [start, end] pair'],
		[{default_: Number.NaN}, 'crossReplace.default_ is NaN'],
		[{default_: 0.8, cat: [0.5, 0.1]}, 'crossReplace["cat"] is [0.5,0.1]: start is after end'],
	])('crossReplace %j is an INVALID_OPTION naming the option and value', (value, message) => {
		const error = errorOf(() => crossReplaceAlpha(tokenizer, 'a cat', 10, value as never));
		expect(error.message).toContain(message);
		expect(error.message).toContain('0 ≤ start ≤ end ≤ 1');
	});

	it.each([
		[2, 'selfReplace is 2: outside [0, 1]'],
		[Number.NaN, 'selfReplace is NaN'],
		[[0.9, 0.1], 'selfReplace is [0.9,0.1]: start is after end'],
	])('selfReplace %j is an INVALID_OPTION', (value, message) => {
		expect(errorOf(() => selfReplaceWindow(10, value as never)).message).toContain(message);
	});

	it('steps must be a whole number ≥ 1', () => {
		expect(errorOf(() => selfReplaceWindow(0, 0.5)).message).toContain('steps is 0');
		expect(errorOf(() => crossReplaceAlpha(tokenizer, 'a cat', 2.5, 0.5)).message).toContain('steps is 2.5');
	});
});

describe('equalizer', () => {
	it('sets the words\' target tokens, by string or index, later words winning; zip drops unpaired values with a warning', () => {
		const result = equalizer(tokenizer, 'a big cat', {words: ['big', 3, 'cat'], values: [10, 5, 2]});
		expect([...result.values.slice(0, 6)]).toEqual([1, 1, 10, 10, 2, 1]);
		expect(result.notFound).toEqual([3]);
		const zipped = equalizer(tokenizer, 'a big cat', {words: ['cat'], values: [10, 20]});
		expect(zipped.values[4]).toBe(10);
		expect(zipped.warnings[0]).toContain('1 word(s) but 2 value(s): the extra values [20] are ignored');
		expect(equalizer(tokenizer, 'a big cat', {words: 'cat', values: 4}).values[4]).toBe(4);
	});

	it('a missing word is a warning with the near miss the exact matching skipped', () => {
		const result = equalizer(tokenizer, 'a Porsche car', {words: ['porsche'], values: [10]});
		expect(result.notFound).toEqual(['porsche']);
		expect(result.warnings[0]).toContain('reweight word "porsche" is not in the target prompt "a Porsche car"');
		expect(result.warnings[0]).toContain('Did you mean "Porsche"?');
	});

	it('bad values and words are INVALID_OPTION', () => {
		expect(errorOf(() => equalizer(tokenizer, 'a cat', {words: ['cat'], values: [Number.NaN]})).message).toContain('reweight.values[0] is NaN');
		expect(errorOf(() => equalizer(tokenizer, 'a cat', {words: ['cat'], values: [-1]})).message).toContain('reweight.values[0] is -1');
		expect(errorOf(() => equalizer(tokenizer, 'a cat', {words: [1.5], values: [2]})).message).toContain('reweight.words[0] is 1.5');
	});
});

describe('blend words', () => {
	it('one row per prompt; a single list leaves the target row zero; absent words give zero rows and warnings', () => {
		const {rows, notFound, warnings} = blendAlphaRows(tokenizer, 'a silver jeep', 'a porsche car', [['silver', 'jeep'], ['porsche', 'car']]);
		expect([...rows.slice(0, 5)]).toEqual([0, 0, 1, 1, 0]);
		expect([...rows.slice(L, L + 5)]).toEqual([0, 0, 1, 1, 0]);
		expect(notFound).toEqual([]);
		expect(warnings).toEqual([]);
		const single = blendAlphaRows(tokenizer, 'a man', 'a batman', [['man']]);
		expect(single.rows.slice(L).every((v) => v === 0)).toBe(true);
		const absent = blendAlphaRows(tokenizer, 'a cat', 'a dog', [['swan'], ['dog']]);
		expect(absent.rows.slice(0, L).every((v) => v === 0)).toBe(true);
		expect(absent.notFound).toEqual([{prompt: 'source', word: 'swan'}]);
		expect(absent.warnings[0]).toContain('blend word "swan" is not in the source prompt "a cat"');
		expect(absent.warnings[0]).toContain('keeps the source self-attention everywhere');
	});

	it('rejects shapes that are not [[source words], [target words]]', () => {
		expect(errorOf(() => blendAlphaRows(tokenizer, 'a cat', 'a dog', [])).message).toContain('blendWords is []');
		expect(errorOf(() => blendAlphaRows(tokenizer, 'a cat', 'a dog', [['cat'], ['dog'], ['x']])).message).toContain('[[source words], [target words]]');
		expect(errorOf(() => blendAlphaRows(tokenizer, 'a cat', 'a dog', [[Number.NaN]])).message).toContain('blendWords[0][0] is NaN');
	});
});

describe('controller choice', () => {
	it('Replace iff is_replace_controller and equal split(" ") counts; Reweight wraps', () => {
		expect(chooseController({source: 'a cat', target: 'a dog'}).kind).toBe('replace');
		expect(chooseController({source: 'a cat', target: 'a big dog'}).kind).toBe('refine');
		expect(chooseController({source: 'a cat', target: 'a dog', controller: 'refine'}).kind).toBe('refine');
		// a trailing comma keeps the count; a double space adds an (empty) word
		expect(chooseController({source: 'a cat,', target: 'a dog'}).kind).toBe('replace');
		expect(chooseController({source: 'a  cat', target: 'a dog'}).kind).toBe('refine');
		const wrapped = chooseController({source: 'a cat', target: 'a big dog', reweight: true});
		expect(wrapped).toMatchObject({kind: 'refine', reweight: true, wordCountSource: 2, wordCountTarget: 3});
		expect(wrapped.reason).toBe('Refine, wrapped in Reweight: the source has 2 words and the target 3');
		expect(controllerFromOfficial(undefined)).toBe('auto');
		expect(controllerFromOfficial(true)).toBe('auto');
		expect(controllerFromOfficial(false)).toBe('refine');
	});

	it("'replace' with unequal word counts, or an unknown controller, is an INVALID_OPTION", () => {
		const error = errorOf(() => chooseController({source: 'a cat', target: 'a big dog', controller: 'replace'}));
		expect(error.message).toContain("controller 'replace' needs prompts with the same number of space-separated words, but the source has 2 words and the target 3");
		expect(errorOf(() => chooseController({source: 'a', target: 'b', controller: 'swap' as never})).message).toContain('controller is "swap"');
	});
});

describe('buildPromptEdit', () => {
	it('returns the controller data, windows, equalizer and blend rows for one target', () => {
		const edit = buildPromptEdit({...base, reweight: {words: ['porsche'], values: [10]}, blendWords: [['silver', 'jeep'], ['porsche', 'car']]});
		expect(edit.controller).toBe('replace');
		expect(edit.crossEdit.kind).toBe('replace');
		expect(edit.crossEdit.mapper).toHaveLength(L * L);
		expect(edit.crossReplaceAlpha).toHaveLength(11 * L);
		expect(edit.numSelfReplace).toEqual([0, 5]);
		expect(edit.equalizer![2]).toBe(10);
		expect(edit.blendAlphaRows).toHaveLength(2 * L);
		expect(edit.tokenLength).toBe(L);
		expect(edit.warnings).toEqual([]);
		const plain = buildPromptEdit({...base, target: 'watercolor painting of a silver jeep', controller: 'auto'});
		expect(plain.controller).toBe('refine');
		expect(plain.crossEdit.kind === 'refine' && plain.crossEdit.alphas[1]).toBe(0);
		expect(plain.equalizer).toBeNull();
		expect(plain.blendAlphaRows).toBeNull();
	});

	it('collects warnings for words the official code ignores silently, and for truncated prompts', () => {
		const edit = buildPromptEdit({
			...base,
			crossReplace: {default_: 0.5, jeep: 0.2},
			reweight: {words: ['Porsche'], values: [10]},
			blendWords: [['countryside'], ['car']],
		});
		expect(edit.warnings).toHaveLength(3);
		expect(edit.warnings[0]).toContain('crossReplace has a window for "jeep", which is not in the target prompt');
		expect(edit.warnings[1]).toContain('reweight word "Porsche" is not in the target prompt');
		expect(edit.warnings[2]).toContain('blend word "countryside" is not in the source prompt');
		expect(edit.warnings[2]).toContain('Did you mean "countryside,"?');
		const long = Array.from({length: 90}, () => 'cat').join(' ');
		const truncated = buildPromptEdit({...base, source: long, target: `${long} dog`});
		expect(truncated.warnings[0]).toMatch(/^source prompt: The prompt .* has 90 CLIP tokens but the text encoder reads only 75/);
	});

	it('validates every option with INVALID_OPTION naming it', () => {
		expect(errorOf(() => buildPromptEdit({...base, crossReplace: [0.9, 0.1]})).message).toContain('crossReplace is [0.9,0.1]');
		expect(errorOf(() => buildPromptEdit({...base, selfReplace: Number.NaN})).message).toContain('selfReplace is NaN');
		expect(errorOf(() => buildPromptEdit({...base, steps: 0})).message).toContain('steps is 0');
		expect(errorOf(() => buildPromptEdit({...base, target: 'a porsche', controller: 'replace'})).message).toContain("controller 'replace'");
		expect(errorOf(() => buildPromptEdit({...base, target: 42 as never})).message).toContain('target is 42');
		expect(errorOf(() => buildPromptEdit({...base, reweight: {words: ['car'], values: [Number.POSITIVE_INFINITY]}})).message).toContain('reweight.values[0] is Infinity');
	});
});

describe('browser safety', () => {
	it('plugin/fatezero/prompt-to-prompt imports no node: module and, outside itself, only the error class and types', () => {
		const dir = path.resolve('plugin/fatezero/prompt-to-prompt');
		for (const file of readdirSync(dir)) {
			const text = readFileSync(path.join(dir, file), 'utf8');
			for (const [statement, from] of text.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)) {
				expect(from.startsWith('node:'), `${file}: ${statement}`).toBe(false);
				if (from.startsWith('./')) continue;
				expect(from === '../../errors/fatezero-error.js' || /^import type /.test(statement), `${file}: ${statement}`).toBe(true);
			}
		}
	});
});
