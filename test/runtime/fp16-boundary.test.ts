import {expect, it} from 'vitest';
import {GraphBuilder} from '../../plugin/graph/onnx-graph-builder.js';
import {floatToHalf, halfToFloat} from '../../plugin/model/tensor-dtype.js';
import {createInferenceRuntime, float16Tensor, float32Tensor} from '../../plugin/runtime/index.js';
import {createOrtSession} from '../../plugin/runtime/ort-session.js';
import {seeded} from './tiny-graphs.js';

const [M, K, N] = [8, 64, 16];

/**
 * y = x·W with float32 I/O; `half` computes in float16 between a Cast in and a Cast out.
 * On the x86 CPU EP (ORT 1.31.1, as 1.30 before it) MatMul has no fp16 kernel: ORT inserts
 * Casts and runs it in fp32, and even drops the lossy fp32→fp16→fp32 pair on x, so only W's fp16
 * rounding shows. GPU EPs compute in real fp16, hence the tolerance below is the fp16 one, not
 * fp32's.
 */
const matmulGraph = (w: Float32Array, half: boolean): Uint8Array => {
	const b = new GraphBuilder(half ? 'mm16' : 'mm32');
	const x = b.input('x', 'float32', [M, K]);
	if (!half) {
		b.output('y', b.op('MatMul', [x, b.constFloat32(w, [K, N])]), 'float32', [M, N]);
		return b.toBytes();
	}
	const x16 = b.op('Cast', [x], {to: 10});
	const w16 = b.constFloat16(Uint16Array.from(w, floatToHalf), [K, N]);
	b.output('y', b.op('Cast', [b.op('MatMul', [x16, w16])], {to: 1}), 'float32', [M, N]);
	return b.toBytes();
};

it('an fp16 graph runs with float32 inputs and outputs and matches fp32 within fp16 tolerance', async () => {
	const w = seeded(K * N, 3);
	const x = float32Tensor(seeded(M * K, 4).map((v) => v * 4), [M, K]);
	const fp32 = await createOrtSession({label: 'mm32', graph: matmulGraph(w, false), externalData: []});
	const reference = (await fp32.run({x})).y.data as Float32Array;
	await fp32.dispose();

	const runtime = await createInferenceRuntime();
	try {
		const fp16 = await runtime.createSession({label: 'mm16', graph: matmulGraph(w, true), externalData: []});
		const out = (await fp16.run({x})).y;
		expect(out.type).toBe('float32');
		expect(out.dims).toEqual([M, N]);
		const y = out.data as Float32Array;
		// fp16 has an 11-bit significand: each rounded operand is off by ≤ 2^-11 relative, so the
		// dot product of K terms is off by about 2^-10·Σ|x·w| in the worst case.
		for (let m = 0; m < M; m++) {
			for (let n = 0; n < N; n++) {
				let magnitude = 0;
				for (let k = 0; k < K; k++) magnitude += Math.abs(x.data[m * K + k] as number) * Math.abs(w[k * N + n]);
				expect(Math.abs(y[m * N + n] - reference[m * N + n])).toBeLessThanOrEqual(magnitude * 2 ** -10 + 1e-6);
			}
		}
		// And it really used the fp16 weights: not bit-identical to fp32 (W is not fp16-exact).
		expect(y.some((v, i) => v !== reference[i])).toBe(true);
		expect(halfToFloat(floatToHalf(w[0]))).not.toBe(w[0]);
	} finally {
		await runtime.dispose();
	}
});

it('raw float16 tensors cross the worker boundary both ways, bit for bit (stored attention keeps them so)', async () => {
	// y16 = Cast16(Cast32(x16) · 2): doubling is exact in fp16, so the bits are predictable
	const b = new GraphBuilder('halves');
	const x = b.input('x', 'float16', [2, 3]);
	const doubled = b.op('Mul', [b.op('Cast', [x], {to: 1}), b.constFloat32([2], [])]);
	b.output('y16', b.op('Cast', [doubled], {to: 10}), 'float16', [2, 3]);
	b.output('y32', doubled, 'float32', [2, 3]);
	const values = [0.5, -1.25, 3, 1000, -0.000061035156, 0.333];
	const halves = Uint16Array.from(values, floatToHalf);
	const runtime = await createInferenceRuntime();
	try {
		const session = await runtime.createSession({label: 'halves', graph: b.toBytes(), externalData: []});
		const out = await session.run({x: float16Tensor(halves, [2, 3])});
		expect(out.y16.type).toBe('float16');
		expect(out.y16.dims).toEqual([2, 3]);
		expect([...(out.y16.data as Uint16Array)]).toEqual(values.map((v) => floatToHalf(halfToFloat(floatToHalf(v)) * 2)));
		expect([...(out.y32.data as Float32Array)]).toEqual(values.map((v) => halfToFloat(floatToHalf(v)) * 2));
		// the caller's halves are copied, not detached
		expect(halves.length).toBe(6);
		// a float32 feed for a float16 input names the mismatch
		await expect(session.run({x: float32Tensor(new Float32Array(6), [2, 3])})).rejects.toMatchObject({code: 'INVALID_INPUT', message: expect.stringMatching(/x .*float16.*float32\[2, 3\]/)});
	} finally {
		await runtime.dispose();
	}
});
