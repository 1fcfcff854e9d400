import {GraphBuilder} from '../../plugin/graph/onnx-graph-builder.js';

/** Deterministic values in [-0.5, 0.5). */
export const seeded = (n: number, seed: number): Float32Array => {
	let s = seed >>> 0;
	return Float32Array.from({length: n}, () => {
		s = (s * 1664525 + 1013904223) >>> 0;
		return s / 2 ** 32 - 0.5;
	});
};

/**
 * x[2,16] float32 and steps[1] int64 → probs = Softmax(x·W + b), scaled = probs·steps,
 * best = ArgMax(probs) (int64): float and int64 on both sides of the boundary.
 */
export const smallGraph = (): Uint8Array => {
	const b = new GraphBuilder('small');
	const x = b.input('x', 'float32', [2, 16]);
	const steps = b.input('steps', 'int64', [1]);
	const logits = b.op('Add', [b.op('MatMul', [x, b.constFloat32(seeded(128, 11), [16, 8])]), b.constFloat32(seeded(8, 12))]);
	const probs = b.op('Softmax', [logits], {axis: -1});
	b.output('probs', probs, 'float32', [2, 8]);
	b.output('scaled', b.op('Mul', [probs, b.op('Cast', [steps], {to: 1})]), 'float32', [2, 8]);
	b.output('best', b.op('ArgMax', [probs], {axis: -1}), 'int64', [2, 1]);
	return b.toBytes();
};

/** x[1024,1024] through `count` MatMuls with W = 1/1024 everywhere: all-ones stays all-ones. */
export const matmulChain = (count: number): Uint8Array => {
	const b = new GraphBuilder('chain');
	let y = b.input('x', 'float32', [1024, 1024]);
	const w = b.constFloat32(new Float32Array(1024 * 1024).fill(1 / 1024), [1024, 1024]);
	for (let i = 0; i < count; i++) y = b.op('MatMul', [y, w]);
	b.output('y', y, 'float32', [1024, 1024]);
	return b.toBytes();
};

/** Counts 10 ms interval ticks while `work` runs. */
export const ticksDuring = async <T>(work: () => Promise<T>): Promise<{ticks: number; ms: number; value: T}> => {
	let ticks = 0;
	const timer = setInterval(() => ticks++, 10);
	const start = performance.now();
	try {
		const value = await work();
		return {ticks, ms: performance.now() - start, value};
	} finally {
		clearInterval(timer);
	}
};
