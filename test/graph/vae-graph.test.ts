import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import type {LayerContext} from '../../plugin/graph/common-layers.js';
import {GraphBuilder} from '../../plugin/graph/onnx-graph-builder.js';
import type {VaeGraphOptions} from '../../plugin/graph/vae-blocks.js';
import {buildVaeDecoderGraph} from '../../plugin/graph/vae-decoder-graph.js';
import {buildVaeEncoderGraph} from '../../plugin/graph/vae-encoder-graph.js';
import {WeightBinder, type WeightProblems} from '../../plugin/graph/weight-binder.js';
import type {VaeConfig} from '../../plugin/model/component-configs.js';
import {parseVaeConfig} from '../../plugin/model/parse-vae-config.js';
import {readSafetensorsIndex, readTensorBytes, writeSafetensors, type TensorToWrite} from '../../plugin/model/safetensors-file.js';
import {float32Tensor} from '../../plugin/runtime/host-tensor.js';
import {createOrtSession} from '../../plugin/runtime/ort-session.js';
import {GoldenFile, goldenDir, goldenSkipReason, hasGolden, maxAbsDiff, relativeError} from '../helpers/golden.js';

// tiny-sd/vae/config.json through the parser (its own tests check the parsed values); read
// lazily, since the golden folder may be absent.
const tinyConfig = (): VaeConfig => {
	const file = path.join(goldenDir, 'tiny-sd/vae/config.json');
	return parseVaeConfig(JSON.parse(readFileSync(file, 'utf8')), file).config;
};

const LOCATION = 'vae/diffusion_pytorch_model.safetensors';
const TOLERANCE = 1e-4;

type Built = {graph: Uint8Array; report: WeightProblems};

const build = (file: string, kind: 'encoder' | 'decoder', options: VaeGraphOptions = {}): Built => {
	const b = new GraphBuilder(`vae_${kind}`);
	const w = new WeightBinder(b, [{location: LOCATION, index: readSafetensorsIndex(file)}], 'float32');
	const ctx: LayerContext = {b, w, computeType: 'float32'};
	if (kind === 'encoder') buildVaeEncoderGraph(ctx, tinyConfig(), options);
	else buildVaeDecoderGraph(ctx, tinyConfig(), options);
	return {graph: b.toBytes(), report: w.report()};
};

/** Runs a graph once on `feeds` and returns its float outputs. */
const runOnce = async (label: string, graph: Uint8Array, file: string, feeds: Record<string, {data: Float32Array; shape: number[]}>) => {
	const session = await createOrtSession({label, graph, externalData: [{location: LOCATION, file}]});
	try {
		const tensors = Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, float32Tensor(t.data, t.shape)]));
		const out = await session.run(tensors);
		return Object.fromEntries(Object.entries(out).map(([name, t]) => [name, {dims: t.dims, data: t.data as Float32Array}]));
	} finally {
		await session.dispose();
	}
};

/**
 * The only difference between a diffusers ≥ 0.14 save and ours: the encoder's/decoder's
 * mid-block attention under to_q/to_k/to_v/to_out.0. The decoder's projections are written in
 * the [C, C, 1, 1] conv shape that some old checkpoints use, to cover that binder path too.
 */
const writeRenamedCopy = (source: string, target: string) => {
	const index = readSafetensorsIndex(source);
	const renames: Record<string, string> = {query: 'to_q', key: 'to_k', value: 'to_v', proj_attn: 'to_out.0'};
	const tensors: Record<string, TensorToWrite> = {};
	for (const [name, entry] of index.tensors) {
		const match = /^(.*\.mid_block\.attentions\.0)\.(query|key|value|proj_attn)\.(weight|bias)$/.exec(name);
		const renamed = match ? `${match[1]}.${renames[match[2]]}.${match[3]}` : name;
		const convShaped = match !== null && name.startsWith('decoder.') && match[3] === 'weight';
		tensors[renamed] = {dtype: entry.dtype, shape: convShaped ? [...entry.shape, 1, 1] : entry.shape, bytes: readTensorBytes(index, name)};
	}
	writeSafetensors(target, tensors);
};

/** The encoder and decoder each use their half of the file: nothing missing, nothing unused by both. */
const expectBindsWholeFile = (encoder: Built, decoder: Built) => {
	for (const {report} of [encoder, decoder]) {
		expect(report.missing).toEqual([]);
		expect(report.mismatched).toEqual([]);
	}
	expect(encoder.report.extra.filter((key) => decoder.report.extra.includes(key))).toEqual([]);
	expect(encoder.report.extra.every((key) => key.startsWith('decoder.') || key.startsWith('post_quant_conv.'))).toBe(true);
	expect(decoder.report.extra.every((key) => key.startsWith('encoder.') || key.startsWith('quant_conv.'))).toBe(true);
};

describe.skipIf(!hasGolden)(`VAE graphs vs diffusers 0.11 AutoencoderKL on tiny-sd${hasGolden ? '' : ` (${goldenSkipReason})`}`, () => {
	const file = path.join(goldenDir, 'tiny-sd', LOCATION);
	let golden: GoldenFile;
	let input: {data: Float32Array; shape: number[]};
	let mean: {data: Float32Array; shape: number[]};
	let encoder: Built;
	let decoder: Built;
	let encoded: Record<string, {dims: number[]; data: Float32Array}>;
	let decoded: Record<string, {dims: number[]; data: Float32Array}>;

	beforeAll(async () => {
		golden = new GoldenFile('components/vae.safetensors');
		input = golden.float('input');
		mean = golden.float('latent_dist.mean');
		encoder = build(file, 'encoder');
		decoder = build(file, 'decoder');
		encoded = await runOnce('vae encoder (tiny-sd)', encoder.graph, file, {sample: input});
		decoded = await runOnce('vae decoder (tiny-sd)', decoder.graph, file, {latent: mean});
	});

	it('binds every weight of the checkpoint (old query/key/value/proj_attn naming)', () => {
		expectBindsWholeFile(encoder, decoder);
	});

	it('has the documented shapes', () => {
		expect(encoded.mean.dims).toEqual([2, 4, 16, 16]);
		expect(encoded.logvar.dims).toEqual([2, 4, 16, 16]);
		expect(decoded.sample.dims).toEqual([2, 3, 128, 128]);
	});

	it.each([
		['mean', 'latent_dist.mean'],
		['logvar', 'latent_dist.logvar'],
	])(`encoder %s matches %s within ${TOLERANCE} relative`, (output, reference) => {
		const error = relativeError(encoded[output].data, golden.float(reference).data);
		console.log(`vae encoder ${output}: relative error ${error.toExponential(2)}`);
		expect(error).toBeLessThan(TOLERANCE);
	});

	it('exp(logvar / 2) matches latent_dist.std', () => {
		const std = encoded.logvar.data.map((v) => Math.exp(v / 2));
		const error = relativeError(std, golden.float('latent_dist.std').data);
		console.log(`vae encoder std: relative error ${error.toExponential(2)}`);
		expect(error).toBeLessThan(TOLERANCE);
	});

	it(`decoder output matches decode(mean).sample within ${TOLERANCE} relative`, () => {
		const error = relativeError(decoded.sample.data, golden.float('decode(mean).sample').data);
		console.log(`vae decoder sample: relative error ${error.toExponential(2)}`);
		expect(error).toBeLessThan(TOLERANCE);
	});

	it('reproduces pipeline.decode_latents(0.18215 * mean)', async () => {
		// decode_latents gets z = 0.18215·mean and multiplies by 1/0.18215 in float32 first.
		const scale = Math.fround(0.18215);
		const inverse = Math.fround(1 / 0.18215);
		const latent = mean.data.map((m) => Math.fround(Math.fround(m * scale) * inverse));
		const {sample} = await runOnce('vae decoder (tiny-sd)', decoder.graph, file, {latent: {data: latent, shape: mean.shape}});
		const [n, c, h, w] = sample.dims;
		// (sample / 2 + 0.5).clamp(0, 1), [N, C, H, W] -> [N, H, W, C]
		const frames = new Float32Array(n * h * w * c);
		for (let i = 0; i < n; i++)
			for (let ch = 0; ch < c; ch++)
				for (let p = 0; p < h * w; p++) {
					const v = sample.data[(i * c + ch) * h * w + p] / 2 + 0.5;
					frames[(i * h * w + p) * c + ch] = Math.min(1, Math.max(0, v));
				}
		const reference = golden.float('decode_latents(0.18215*mean)');
		expect(reference.shape).toEqual([n, h, w, c]);
		const error = relativeError(frames, reference.data);
		console.log(`vae decode_latents frames: relative error ${error.toExponential(2)}`);
		expect(error).toBeLessThan(TOLERANCE);
	});

	it('MultiHeadAttention and the explicit softmax path give the same numbers', async () => {
		const explicitEncoder = build(file, 'encoder', {attention: 'explicit'});
		const explicitDecoder = build(file, 'decoder', {attention: 'explicit'});
		const e = await runOnce('vae encoder explicit', explicitEncoder.graph, file, {sample: input});
		const d = await runOnce('vae decoder explicit', explicitDecoder.graph, file, {latent: mean});
		const meanError = relativeError(e.mean.data, encoded.mean.data);
		const sampleError = relativeError(d.sample.data, decoded.sample.data);
		console.log(`vae fused vs explicit attention: mean ${meanError.toExponential(2)}, sample ${sampleError.toExponential(2)} relative`);
		expect(meanError).toBeLessThan(1e-5);
		expect(sampleError).toBeLessThan(1e-5);
	});

	describe('a checkpoint with the diffusers ≥ 0.14 to_q/to_k/to_v/to_out.0 naming', () => {
		let dir: string;
		let renamed: string;

		beforeAll(() => {
			dir = mkdtempSync(path.join(tmpdir(), 'vae-renamed-'));
			renamed = path.join(dir, 'diffusion_pytorch_model.safetensors');
			writeRenamedCopy(file, renamed);
		});

		afterAll(() => {
			rmSync(dir, {recursive: true, force: true});
		});

		it('binds and gives identical outputs', async () => {
			const index = readSafetensorsIndex(renamed);
			expect(index.tensors.has('encoder.mid_block.attentions.0.to_out.0.weight')).toBe(true);
			expect(index.tensors.get('decoder.mid_block.attentions.0.to_q.weight')?.shape).toEqual([32, 32, 1, 1]);
			const newEncoder = build(renamed, 'encoder');
			const newDecoder = build(renamed, 'decoder');
			expectBindsWholeFile(newEncoder, newDecoder);
			const e = await runOnce('vae encoder (renamed)', newEncoder.graph, renamed, {sample: input});
			const d = await runOnce('vae decoder (renamed)', newDecoder.graph, renamed, {latent: mean});
			expect(maxAbsDiff(e.mean.data, encoded.mean.data)).toBe(0);
			expect(maxAbsDiff(e.logvar.data, encoded.logvar.data)).toBe(0);
			expect(maxAbsDiff(d.sample.data, decoded.sample.data)).toBe(0);
		});
	});
});
