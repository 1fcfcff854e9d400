import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {generateRandomModel} from '../../plugin/model-generator/generate-random-model.js';
import {readModelFolder} from '../../plugin/model/read-model-folder.js';
import {validateModelWeights} from '../../plugin/graph/compile-model-graphs.js';
import {loadClipTokenizer} from '../../plugin/diffusion/load-clip-tokenizer.js';
import {readFloatTensor} from '../../plugin/model/safetensors-file.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'fatezero-random-model-'));
afterAll(() => rmSync(root, {recursive: true, force: true}));

const unetFile = (dir: string) => path.join(dir, 'unet/diffusion_pytorch_model.safetensors');

describe('generateRandomModel', () => {
	const first = generateRandomModel({dir: path.join(root, 'a')});

	it('writes a diffusers SD-1.x folder that the reader accepts and the graphs fully use', () => {
		expect(first.alreadyExisted).toBe(false);
		const model = readModelFolder(first.dir);
		expect(model.unet.config.blockOutChannels).toEqual([32, 64, 64]);
		expect(model.textEncoder.config.hiddenSize).toBe(32);
		expect(model.unet.config.crossAttentionDim).toBe(32);
		// no missing, extra or mis-shaped tensor in any component
		expect(() => validateModelWeights(model)).not.toThrow();
		expect(model.warnings).toEqual([]);
	});

	it('is idempotent and seeded: same options keep the folder, same seed gives the same bytes', () => {
		expect(generateRandomModel({dir: first.dir}).alreadyExisted).toBe(true);
		const twin = generateRandomModel({dir: path.join(root, 'b')});
		expect(readFileSync(unetFile(twin.dir)).equals(readFileSync(unetFile(first.dir)))).toBe(true);
		const other = generateRandomModel({dir: path.join(root, 'c'), seed: 1});
		expect(readFileSync(unetFile(other.dir)).equals(readFileSync(unetFile(first.dir)))).toBe(false);
	});

	it('keeps activations in a sane range: norm scales near 1, conv weights scaled by fan-in', () => {
		const model = readModelFolder(first.dir);
		const index = model.unet.weights[0].index;
		const scale = readFloatTensor(index, 'down_blocks.0.resnets.0.norm1.weight').data;
		expect(Math.abs(scale.reduce((a, b) => a + b, 0) / scale.length - 1)).toBeLessThan(0.1);
		const conv = readFloatTensor(index, 'down_blocks.0.resnets.0.conv1.weight').data; // [32, 32, 3, 3]
		const std = Math.sqrt(conv.reduce((a, b) => a + b * b, 0) / conv.length);
		expect(std).toBeGreaterThan(0.8 / Math.sqrt(288));
		expect(std).toBeLessThan(1.2 / Math.sqrt(288));
	});

	it('writes fp16 weights when asked, and they validate too', () => {
		const half = generateRandomModel({dir: path.join(root, 'f16'), dtype: 'F16'});
		const model = readModelFolder(half.dir);
		expect(model.unet.weights[0].index.tensors.get('conv_in.weight')?.dtype).toBe('F16');
		expect(() => validateModelWeights(model)).not.toThrow();
	});

	it('ships a working CLIP-layout tokenizer whose merges make prompt words single tokens', async () => {
		const tokenizer = await loadClipTokenizer(path.join(first.dir, 'tokenizer'));
		const encoded = tokenizer.encode('a silver jeep driving down a curvy road');
		expect(encoded.ids).toHaveLength(77);
		expect(encoded.tokens).toEqual(['<|startoftext|>', 'a</w>', 'silver</w>', 'jeep</w>', 'driving</w>', 'down</w>', 'a</w>', 'curvy</w>', 'road</w>', '<|endoftext|>']);
		expect(encoded.ids[0]).toBe(tokenizer.bosTokenId);
		expect(encoded.ids.slice(10).every((id) => id === tokenizer.eosTokenId)).toBe(true);
	});
});
