import {cpSync, mkdtempSync, readdirSync, rmSync, statSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {compileModelGraphs, validateModelWeights} from '../../plugin/graph/compile-model-graphs.js';
import {generateRandomModel} from '../../plugin/model-generator/generate-random-model.js';
import {readModelFolder} from '../../plugin/model/read-model-folder.js';
import {readSafetensorsIndex, readTensorBytes, writeSafetensors, type TensorToWrite} from '../../plugin/model/safetensors-file.js';
import {FateZeroError} from '../../plugin/errors/fatezero-error.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'fatezero-compile-'));
afterAll(() => rmSync(root, {recursive: true, force: true}));
const base = generateRandomModel({dir: path.join(root, 'model')}).dir;

/** A copy of the generated model whose UNet file is rewritten by `edit`. */
const withEditedUnet = (name: string, edit: (tensors: Record<string, TensorToWrite>) => void): string => {
	const dir = path.join(root, name);
	cpSync(base, dir, {recursive: true});
	const file = path.join(dir, 'unet/diffusion_pytorch_model.safetensors');
	const index = readSafetensorsIndex(file);
	const tensors: Record<string, TensorToWrite> = {};
	for (const [key, entry] of index.tensors) tensors[key] = {dtype: entry.dtype, shape: entry.shape, bytes: readTensorBytes(index, key)};
	edit(tensors);
	writeSafetensors(file, tensors);
	return dir;
};

const expectError = (fn: () => unknown): FateZeroError => {
	try {
		fn();
	} catch (error) {
		expect(error).toBeInstanceOf(FateZeroError);
		return error as FateZeroError;
	}
	throw new Error('expected an error');
};

describe('compileModelGraphs', () => {
	it('writes four small graphs once and reuses them while config and weights are unchanged', () => {
		const cacheDir = path.join(root, 'cache-a');
		const model = readModelFolder(base);
		const first = compileModelGraphs(model, cacheDir, {unet: {referenceFramesMinChannels: 64}});
		const files = readdirSync(path.join(cacheDir, 'graphs'));
		expect(files).toHaveLength(4);
		const mtimes = files.map((f) => statSync(path.join(cacheDir, 'graphs', f)).mtimeMs);
		// weights stay in the model's files: the graphs are kilobytes, not megabytes
		for (const f of files) expect(statSync(path.join(cacheDir, 'graphs', f)).size).toBeLessThan(1024 * 1024);
		const again = compileModelGraphs(readModelFolder(base), cacheDir, {unet: {referenceFramesMinChannels: 64}});
		expect(again).toEqual(first);
		expect(files.map((f) => statSync(path.join(cacheDir, 'graphs', f)).mtimeMs)).toEqual(mtimes);
		expect(first.unet.externalData).toEqual([
			{location: 'unet/diffusion_pytorch_model.safetensors', file: path.join(base, 'unet/diffusion_pytorch_model.safetensors')},
		]);
	});

	it('builds a new UNet graph when the weights or the attention options change', () => {
		const cacheDir = path.join(root, 'cache-b');
		const original = compileModelGraphs(readModelFolder(base), cacheDir, {unet: {referenceFramesMinChannels: 64}});
		const otherOptions = compileModelGraphs(readModelFolder(base), cacheDir, {unet: {referenceFramesMinChannels: null}});
		expect(otherOptions.unet.graph).not.toBe(original.unet.graph);
		expect(otherOptions.vaeDecoder.graph).toBe(original.vaeDecoder.graph);
		const retrained = withEditedUnet('retrained', (t) => {
			const bytes = new Uint8Array((t['conv_in.bias'].bytes as Uint8Array).length).fill(7);
			t['conv_in.bias'] = {...t['conv_in.bias'], bytes};
		});
		const changed = compileModelGraphs(readModelFolder(retrained), cacheDir, {unet: {referenceFramesMinChannels: 64}});
		expect(changed.unet.graph).not.toBe(original.unet.graph);
	});
});

describe('validateModelWeights on bad folders', () => {
	it('a tensor with the wrong shape names the file, the tensor, both shapes and what to do', () => {
		const dir = withEditedUnet('wrong-shape', (t) => {
			const entry = t['down_blocks.0.resnets.0.conv1.weight']; // [32, 32, 3, 3]
			t['down_blocks.0.resnets.0.conv1.weight'] = {...entry, shape: [32, 32, 9, 1]};
		});
		const error = expectError(() => validateModelWeights(readModelFolder(dir)));
		expect(error.code).toBe('MODEL_WEIGHTS_MISMATCH');
		expect(error.message).toContain(dir);
		expect(error.message).toContain('down_blocks.0.resnets.0.conv1.weight has shape [32, 32, 9, 1] but unet/config.json implies [32, 32, 3, 3]');
		expect(error.message).toMatch(/Download unet\/ again/);
	});

	it('missing and extra tensors are listed together in one error', () => {
		const dir = withEditedUnet('missing-extra', (t) => {
			delete t['mid_block.attentions.0.proj_out.weight'];
			t['add_embedding.linear_1.weight'] = {dtype: 'F32', shape: [2], bytes: new Uint8Array(8)};
		});
		const error = expectError(() => validateModelWeights(readModelFolder(dir)));
		expect(error.code).toBe('MODEL_WEIGHTS_MISMATCH');
		expect(error.message).toContain('mid_block.attentions.0.proj_out.weight');
		expect(error.message).toContain('add_embedding.linear_1.weight');
	});
});
