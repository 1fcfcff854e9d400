import {mkdtempSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {compileModelGraphs} from '../../plugin/graph/compile-model-graphs.js';
import {GraphBuilder} from '../../plugin/graph/onnx-graph-builder.js';
import {kernelGaps} from '../../plugin/graph/provider-kernels.js';
import {buildTextEncoderGraph} from '../../plugin/graph/text-encoder-graph.js';
import {buildUnetGraph, UNET_IO} from '../../plugin/graph/unet-graph.js';
import {buildVaeDecoderGraph} from '../../plugin/graph/vae-decoder-graph.js';
import {buildVaeEncoderGraph} from '../../plugin/graph/vae-encoder-graph.js';
import {WeightBinder, type ComputeType} from '../../plugin/graph/weight-binder.js';
import {createFusionHook} from '../../plugin/fatezero/fusion-graph-hook.js';
import type {FusionMode} from '../../plugin/fatezero/fusion-io.js';
import {planFusion} from '../../plugin/fatezero/fusion-plan.js';
import {readModelFolder} from '../../plugin/model/read-model-folder.js';
import {float32Tensor, int64Tensor} from '../../plugin/runtime/host-tensor.js';
import {createOrtSession} from '../../plugin/runtime/ort-session.js';
import type {ExecutionProviderName} from '../../plugin/runtime/session-spec.js';
import {goldenDir, goldenSkipReason, hasGolden} from '../helpers/golden.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'fatezero-provider-graphs-'));
afterAll(() => rmSync(root, {recursive: true, force: true}));

describe.skipIf(!hasGolden)(`graphs built for a provider use only ops it has kernels for${hasGolden ? '' : ` (${goldenSkipReason})`}`, () => {
	const model = hasGolden ? readModelFolder(path.join(goldenDir, 'tiny-sd')) : null!;
	const build = (provider: ExecutionProviderName, computeType: ComputeType, mode: FusionMode | null) => {
		const b = new GraphBuilder('graphs');
		const ctx = {b, w: new WeightBinder(b, null, computeType), computeType, provider};
		const attentionHook = mode === null ? null : createFusionHook(planFusion(model.unet.config, 16, 16), mode);
		buildUnetGraph(ctx, model.unet.config, {referenceFramesMinChannels: 64, attentionHook});
		return b;
	};

	it('the WebGPU FateZero UNet (both attention sources, fp16 and fp32) holds no op without a WebGPU kernel; the CPU build would (FusedMatMul)', () => {
		for (const computeType of ['float16', 'float32'] as const) {
			for (const mode of ['recompute', 'stored', null] as const) {
				const b = build('webgpu', computeType, mode);
				expect(kernelGaps({nodes: b.nodes, initializers: b.initializers, inputs: b.inputs}, 'webgpu'), `${computeType} ${mode}`).toEqual([]);
				expect(b.nodes.some((n) => n.opType === 'MultiHeadAttention')).toBe(true);
			}
		}
		const cpuBuild = build('cpu', 'float16', 'recompute');
		const gaps = kernelGaps({nodes: cpuBuild.nodes, initializers: cpuBuild.initializers, inputs: cpuBuild.inputs}, 'webgpu');
		expect(gaps.map((g) => g.op).sort()).toEqual(['InstanceNormalization', 'com.microsoft.FusedMatMul']);
		expect(kernelGaps({nodes: cpuBuild.nodes, initializers: cpuBuild.initializers, inputs: cpuBuild.inputs}, 'cpu')).toEqual([]);
		expect(kernelGaps({nodes: cpuBuild.nodes, initializers: cpuBuild.initializers, inputs: cpuBuild.inputs}, 'cuda')).toEqual([]);
	});

	it('the WebGPU text encoder and VAE hold no op without a WebGPU kernel either', () => {
		const b = new GraphBuilder('others');
		const ctx = {b, w: new WeightBinder(b, null, 'float16'), computeType: 'float16' as const, provider: 'webgpu' as const};
		buildTextEncoderGraph(ctx, model.textEncoder.config);
		buildVaeEncoderGraph(ctx, model.vae.config);
		buildVaeDecoderGraph(ctx, model.vae.config);
		expect(kernelGaps({nodes: b.nodes, initializers: b.initializers, inputs: b.inputs}, 'webgpu')).toEqual([]);
	});

	it('the CUDA VAE computes its 512-wide single-head attention with MatMul + Softmax, not MultiHeadAttention', () => {
		const ops = (provider: ExecutionProviderName) => {
			const b = new GraphBuilder('vae');
			buildVaeDecoderGraph({b, w: new WeightBinder(b, null, 'float16'), computeType: 'float16', provider}, model.vae.config);
			return new Set(b.nodes.map((n) => n.opType));
		};
		expect(ops('cuda').has('MultiHeadAttention')).toBe(false);
		expect(ops('cuda').has('Softmax')).toBe(true);
		expect(ops('cpu').has('MultiHeadAttention')).toBe(true);
	});

	it('the portable WebGPU graph computes what the CPU graph does (both run on the CPU provider here)', async () => {
		const run = async (provider: ExecutionProviderName) => {
			const specs = compileModelGraphs(model, path.join(root, 'cache'), {executionProvider: provider, unet: {referenceFramesMinChannels: 64}});
			const session = await createOrtSession(specs.unet);
			try {
				const frames = 2;
				const sample = Float32Array.from({length: frames * 4 * 16 * 16}, (_, i) => Math.sin(i * 0.37));
				const text = Float32Array.from({length: frames * 77 * 32}, (_, i) => Math.cos(i * 0.11));
				const out = await session.run({
					[UNET_IO.sample]: float32Tensor(sample, [frames, 4, 16, 16]),
					[UNET_IO.timestep]: float32Tensor(new Float32Array([501]), [1]),
					[UNET_IO.encoderHiddenStates]: float32Tensor(text, [frames, 77, 32]),
					[UNET_IO.referenceFrames]: int64Tensor([1, 1], [1, frames]),
				});
				return {data: out[UNET_IO.noisePred].data as Float32Array, graph: specs.unet.graph};
			} finally {
				await session.dispose();
			}
		};
		const cpu = await run('cpu');
		const webgpu = await run('webgpu');
		expect(webgpu.graph).not.toBe(cpu.graph); // the provider is part of the cache key
		const diff = cpu.data.reduce((m, v, i) => Math.max(m, Math.abs(v - webgpu.data[i])), 0);
		expect(diff).toBeLessThan(1e-4);
	});
});
