import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, expect, it} from 'vitest';
import {GraphBuilder, OnnxType} from '../../plugin/graph/onnx-graph-builder.js';
import {readSafetensorsIndex, writeSafetensors} from '../../plugin/model/safetensors-file.js';
import {createInferenceRuntime, float32Tensor} from '../../plugin/runtime/index.js';
import {seeded} from './tiny-graphs.js';

const dir = mkdtempSync(join(tmpdir(), 'fatezero-external-'));
afterAll(() => rmSync(dir, {recursive: true, force: true}));

const bytesOf = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

it('runs a graph whose initializers point into a safetensors file, through the worker', async () => {
	const weight = seeded(16 * 8, 21);
	const bias = seeded(8, 22);
	const file = join(dir, 'diffusion_pytorch_model.safetensors');
	// A filler tensor first, so the weights do not start at an aligned offset.
	writeSafetensors(file, {
		filler: {dtype: 'F32', shape: [3], bytes: bytesOf(new Float32Array(3))},
		'proj.weight': {dtype: 'F32', shape: [16, 8], bytes: bytesOf(weight)},
		'proj.bias': {dtype: 'F32', shape: [8], bytes: bytesOf(bias)},
	});
	const index = readSafetensorsIndex(file);
	const b = new GraphBuilder('external');
	const external = (name: string) => {
		const entry = index.tensors.get(name)!;
		return b.externalInitializer({
			name,
			dims: entry.shape,
			dataType: OnnxType.float32,
			location: 'diffusion_pytorch_model.safetensors',
			offset: entry.byteOffset,
			length: entry.byteLength,
		});
	};
	const x = b.input('x', 'float32', [2, 16]);
	b.output('y', b.op('Add', [b.op('MatMul', [x, external('proj.weight')]), external('proj.bias')]), 'float32', [2, 8]);

	const runtime = await createInferenceRuntime();
	try {
		const session = await runtime.createSession({
			label: 'external',
			graph: b.toBytes(),
			externalData: [{location: 'diffusion_pytorch_model.safetensors', file}],
		});
		const input = seeded(32, 23);
		const y = (await session.run({x: float32Tensor(input, [2, 16])})).y.data as Float32Array;
		for (let m = 0; m < 2; m++) {
			for (let n = 0; n < 8; n++) {
				let sum = bias[n];
				for (let k = 0; k < 16; k++) sum += input[m * 16 + k] * weight[k * 8 + n];
				expect(y[m * 8 + n]).toBeCloseTo(sum, 5);
			}
		}
	} finally {
		await runtime.dispose();
	}
});
