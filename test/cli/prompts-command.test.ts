import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterAll, afterEach, beforeEach, describe, expect, it, vi, type MockInstance} from 'vitest';
import {promptsCommand, PROMPTS_HELP} from '../../plugin/cli/prompts-command.js';
import {isFateZeroError} from '../../plugin/errors/fatezero-error.js';
import {GoldenFile, goldenDir, goldenSkipReason, hasGolden} from '../helpers/golden.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'fatezero-prompts-'));
afterAll(() => rmSync(root, {recursive: true, force: true}));

const JEEP = 'a silver jeep driving down a curvy road in the countryside';
const WATERCOLOR = `watercolor painting of ${JEEP}`;
const POSCHE_SOURCE = `${JEEP},`;
const POSCHE_TARGET = 'a Porsche car driving down a curvy road in the countryside';

let log: MockInstance<typeof console.log>;
let error: MockInstance<typeof console.error>;
beforeEach(() => {
	log = vi.spyOn(console, 'log').mockImplementation(() => {});
	error = vi.spyOn(console, 'error').mockImplementation(() => {});
});
afterEach(() => {
	vi.restoreAllMocks();
	vi.unstubAllEnvs();
});

const stdout = () => log.mock.calls.map((call) => call.join(' ')).join('\n');

const runJson = async (args: string[]) => {
	expect(await promptsCommand([...args, '--json'])).toBe(0);
	// --json prints exactly one line on stdout
	expect(log).toHaveBeenCalledTimes(1);
	return JSON.parse(String(log.mock.calls[0][0]));
};

const rejection = async (args: string[]): Promise<Error> => {
	try {
		await promptsCommand(args);
	} catch (caught) {
		expect(isFateZeroError(caught, 'INVALID_OPTION'), String(caught)).toBe(true);
		return caught as Error;
	}
	throw new Error('expected promptsCommand to throw');
};

describe.skipIf(!hasGolden)(`fatezero prompts on the golden tokenizer${hasGolden ? '' : ` (${goldenSkipReason})`}`, () => {
	const model = path.join(goldenDir, 'tiny-sd');
	const pairs = hasGolden ? JSON.parse(readFileSync(path.join(goldenDir, 'tokenizer_p2p', 'p2p_pairs.json'), 'utf8')).pairs : [];

	it('--json for jeep → watercolor: ids, tokens, word positions, Refine and its alignment', async () => {
		const pair = pairs[30];
		expect([pair.source, pair.target]).toEqual([JEEP, WATERCOLOR]);
		const report = await runJson(['--model', model, '--source', JEEP, '--target', WATERCOLOR, '--words', 'watercolor,jeep']);
		const padded = (ids: number[]) => [...ids, ...Array(77 - ids.length).fill(49407)];
		expect(report.source.ids).toEqual(padded(pair.tokenizer_encode_source));
		expect(report.target.ids).toEqual(padded(pair.tokenizer_encode_target));
		expect(report.source.tokens).toHaveLength(13);
		expect(report.target.tokens.slice(0, 4)).toEqual(['<|startoftext|>', 'watercolor</w>', 'painting</w>', 'of</w>']);
		expect(report.source.words).toEqual({watercolor: [], jeep: [3]});
		expect(report.target.words).toEqual({watercolor: [1], jeep: [6]});
		expect(report.controller).toBe('refine');
		expect(report.warnings).toEqual([]);
		// the alignment is the official refinement mapper over the target's tokens
		const golden = new GoldenFile('tokenizer_p2p/p2p_pairs.safetensors');
		const mapper = golden.int64('pair30.refinement_mapper').data;
		const alphas = golden.float('pair30.refinement_alphas').data;
		expect(report.alignment).toHaveLength(16);
		report.alignment.forEach((row: {target: number; source: number[]; weight: number}, j: number) => {
			expect(row.target).toBe(j);
			expect(row.source).toEqual(alphas[j] === 1 ? [Number(mapper[j])] : []);
		});
		expect(report.alignment.slice(0, 5).map((row: {source: number[]}) => row.source)).toEqual([[0], [], [], [], [1]]);
	});

	it('--json for jeep → Porsche: Replace, the official mapper columns, and a warning for a word in neither prompt', async () => {
		const report = await runJson(['--model', model, '--source', POSCHE_SOURCE, '--target', POSCHE_TARGET, '--words', 'silver,jeep,Porsche,car,porsche']);
		expect(report.controller).toBe('replace');
		expect(report.source.words).toMatchObject({silver: [2], jeep: [3], Porsche: []});
		expect(report.target.words).toMatchObject({Porsche: [2], car: [3], jeep: []});
		// "countryside," (2 tokens) → "countryside" (1), then the official diagonal tail
		expect(report.alignment[11]).toEqual({target: 11, source: [11, 12], weight: 1});
		expect(report.alignment[12]).toEqual({target: 12, source: [12], weight: 1});
		expect(report.warnings).toHaveLength(1);
		expect(report.warnings[0]).toContain('"porsche" is in neither prompt');
		expect(report.warnings[0]).toContain('Did you mean "Porsche"?');
	});

	it('--word takes a word with a comma literally; a near miss in one prompt is a warning', async () => {
		const report = await runJson(['--model', model, '--source', POSCHE_SOURCE, '--target', POSCHE_TARGET, '--word', 'countryside,', '--words', 'countryside']);
		expect(report.source.words).toEqual({'countryside,': [11, 12], countryside: []});
		expect(report.target.words).toEqual({'countryside,': [], countryside: [11]});
		expect(report.warnings).toEqual([
			expect.stringContaining('"countryside" is not in the source prompt, which has "countryside,"'),
			expect.stringContaining('"countryside," is not in the target prompt, which has "countryside"'),
		]);
	});

	it('prints a readable table without --json', async () => {
		expect(await promptsCommand(['--model', model, '--source', JEEP, '--target', WATERCOLOR, '--words', 'watercolor,zebra'])).toBe(0);
		const text = stdout();
		expect(text).toContain(`Model: ${model}`);
		expect(text).toContain('Controller  Refine: the source has 11 words and the target 14');
		expect(text).toMatch(/ {2}1 {2}320 +a<\/w> +a/);
		expect(text).toMatch(/watercolor<\/w> +watercolor +← new/);
		expect(text).toMatch(/jeep<\/w> +jeep +← 3 jeep<\/w>/);
		expect(text).toMatch(/"watercolor" +— not found +1/);
		expect(text).toContain('⚠ "zebra" is in neither prompt');
	});

	it("--controller replace with unequal word counts is a usage error", async () => {
		const caught = await rejection(['--model', model, '--source', JEEP, '--target', WATERCOLOR, '--controller', 'replace']);
		expect(caught.message).toContain("controller 'replace' needs prompts with the same number of space-separated words");
	});
});

describe('fatezero prompts', () => {
	it('with the generated model opted in, says so and that its vocabulary is synthetic', async () => {
		vi.stubEnv('FATEZERO_MODEL', 'generated:tiny');
		expect(await promptsCommand(['--cache-dir', path.join(root, 'cache'), '--source', 'a cat', '--target', 'a dog', '--words', 'cat'])).toBe(0);
		const text = stdout();
		expect(text).toContain('the generated tiny random-weight model');
		expect(text).toContain('synthetic vocabulary: token ids and word splits differ from real CLIP');
		expect(text).toContain('Controller  Replace: both prompts have 2 words');
		// --json keeps stdout to the JSON and sends the notice to stderr
		log.mockClear();
		const report = await runJson(['--cache-dir', path.join(root, 'cache'), '--source', 'a cat', '--target', 'a dog']);
		expect(report.controller).toBe('replace');
		expect(report.source.words).toEqual({});
		expect(error.mock.calls.join('\n')).toContain('synthetic vocabulary');
	});

	it('bad arguments are INVALID_OPTION errors that say what to do', async () => {
		expect((await rejection(['--source', 'a cat'])).message).toContain('needs both --source and --target (missing --target)');
		expect((await rejection(['--source', 'a', '--target', 'b', '--frobnicate'])).message).toContain('Run "fatezero prompts --help"');
		expect((await rejection(['--source', 'a', '--target', 'b', '--controller', 'swap'])).message).toContain('--controller "swap" is not one of auto, replace, refine');
	});

	it('has help text naming every option', () => {
		for (const option of ['--source', '--target', '--words', '--word', '--controller', '--model', '--cache-dir', '--json']) expect(PROMPTS_HELP).toContain(option);
	});
});
