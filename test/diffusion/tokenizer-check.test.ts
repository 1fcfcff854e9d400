import {execFile} from 'node:child_process';
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {promisify} from 'node:util';
import {afterAll, describe, expect, it} from 'vitest';
import {checkClipTokenizer, TOKENIZER_PROBE_PROMPT} from '../../plugin/diffusion/load-clip-tokenizer.js';
import {isFateZeroError} from '../../plugin/errors/fatezero-error.js';
import {generateRandomModel} from '../../plugin/model-generator/generate-random-model.js';
import {buildSyntheticClipVocab} from '../../plugin/model-generator/synthetic-clip-vocab.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'fatezero-tokenizer-check-'));
afterAll(() => rmSync(root, {recursive: true, force: true}));

let n = 0;
const tokenizerFolder = (edit: (files: {vocab: string; merges: string}) => {vocab: string; merges: string} = (f) => f): string => {
	const dir = path.join(root, `tokenizer-${++n}`);
	mkdirSync(dir, {recursive: true});
	const {vocab, merges} = buildSyntheticClipVocab();
	const files = edit({vocab: JSON.stringify(vocab), merges: `#version: 0.2\n${merges.join('\n')}\n`});
	writeFileSync(path.join(dir, 'vocab.json'), files.vocab);
	writeFileSync(path.join(dir, 'merges.txt'), files.merges);
	return dir;
};

const failure = async (dir: string, options: {textEncoderVocabSize?: number} = {}): Promise<string> => {
	const error = await checkClipTokenizer(dir, options).then(
		() => null,
		(e: unknown) => e,
	);
	expect(isFateZeroError(error, 'MODEL_CONFIG_INVALID'), String(error)).toBe(true);
	return (error as Error).message;
};

describe('doctor checks the tokenizer (issue 16)', () => {
	it('an intact tokenizer passes and encodes the probe prompt', async () => {
		const check = await checkClipTokenizer(tokenizerFolder(), {textEncoderVocabSize: 1000});
		expect(check.probe.prompt).toBe(TOKENIZER_PROBE_PROMPT);
		expect(check.probe.tokens).toBeGreaterThan(5);
		expect(check.mergeCount).toBe(buildSyntheticClipVocab().merges.length);
	});

	it('a truncated vocab.json (cut mid-file) is invalid JSON, named', async () => {
		expect(await failure(tokenizerFolder((f) => ({...f, vocab: f.vocab.slice(0, Math.floor(f.vocab.length * 0.6))})))).toMatch(/vocab\.json in .* is not valid JSON/);
	});

	it('a vocab.json cut short that still parses lacks the tokens of the last merges', async () => {
		const message = await failure(
			tokenizerFolder((f) => {
				const entries = Object.entries(JSON.parse(f.vocab) as Record<string, number>);
				const kept = [...entries.slice(0, entries.length - 40), ...entries.slice(-2)];
				return {...f, vocab: JSON.stringify(Object.fromEntries(kept))};
			}),
		);
		expect(message).toMatch(/vocab\.json in .* has no token for merge \d+ of merges\.txt/);
	});

	it('a truncated merges.txt no longer matches the vocabulary', async () => {
		expect(await failure(tokenizerFolder((f) => ({...f, merges: f.merges.slice(0, Math.floor(f.merges.length / 2))})))).toMatch(/merges\.txt in .* (does not match: vocab\.json has \d+ tokens, but \d+ merges make|ends in merge \d+ .* merges\.txt looks truncated)/);
		// cut at a line end: every merge is whole, but the vocabulary has more tokens than they make
		expect(await failure(tokenizerFolder((f) => ({...f, merges: f.merges.split('\n').slice(0, 100).join('\n')})))).toMatch(/merges\.txt in .* does not match: vocab\.json has \d+ tokens, but 99 merges make/);
	});

	it('a vocabulary larger than the text encoder embedding is refused', async () => {
		expect(await failure(tokenizerFolder(), {textEncoderVocabSize: 500})).toMatch(/more than the 500 rows of the text encoder's embedding/);
	});

	it('fatezero doctor fails on a model whose vocab.json is truncated, before any edit', async () => {
		const model = path.join(root, 'model');
		generateRandomModel({dir: model, architecture: 'tiny'});
		const vocab = path.join(model, 'tokenizer', 'vocab.json');
		writeFileSync(vocab, readFileSync(vocab, 'utf8').slice(0, 2000));
		const result = await promisify(execFile)(process.execPath, [path.resolve('bin/fatezero.js'), 'doctor', '--model', model, '--cache-dir', path.join(root, 'cache')], {timeout: 120_000}).then(
			({stdout, stderr}) => ({code: 0, stdout, stderr}),
			(e: {code: number; stdout: string; stderr: string}) => ({code: e.code, stdout: e.stdout, stderr: e.stderr}),
		);
		expect(result.code).not.toBe(0);
		expect(result.stdout).toContain('Model        ✔ valid');
		expect(result.stdout).toContain('Tokenizer    ✖ invalid');
		expect(result.stderr).toMatch(/vocab\.json in .* is not valid JSON/);
		expect(result.stderr).not.toContain('This is a bug');
	});
});
