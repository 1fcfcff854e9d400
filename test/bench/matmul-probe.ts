import {GraphBuilder} from '../../plugin/graph/onnx-graph-builder.js';
import {seededNormal} from '../../plugin/model/random-weights.js';
import {float32Tensor, type HostTensor, type SessionSpec} from '../../plugin/runtime/index.js';

export type MatmulProbe = {
	spec: SessionSpec;
	/** Both operands, fed at run time. */
	feeds: Record<string, HostTensor>;
	/** FLOPs of one run (all `depth` MatMuls). */
	flops: number;
	label: string;
};

/**
 * The reference the UNet is measured against: `depth` MatMuls n×n×n, y₁ = a·b, yᵢ = yᵢ₋₁·b, with
 * BOTH operands graph inputs fed at run time, so ORT cannot prepack b at session creation (the
 * UNet's weights are constants and do get prepacked: the reference has no advantage over it).
 * Only ReduceSum(y_depth) comes back, and the two n² inputs are amortized over `depth` MatMuls, so
 * the copies to and from the worker (≈0.3–0.6 ms/MiB) stay a few % of the run.
 */
export const buildMatmulProbe = (n: number, depth = 4): MatmulProbe => {
	const b = new GraphBuilder('matmul-probe');
	const a = b.input('a', 'float32', [n, n]);
	const w = b.input('b', 'float32', [n, n]);
	let y = a;
	for (let i = 0; i < depth; i++) y = b.op('MatMul', [y, w]);
	b.output('sum', b.op('ReduceSum', [y], {keepdims: 0}), 'float32', []);
	// b ~ N(0, 1/n): every yᵢ keeps unit-size entries, no overflow whatever the depth
	const bValues = seededNormal(1, 'matmul.b', n * n).map((v) => v / Math.sqrt(n));
	return {
		spec: {label: `matmul ${n}³ ×${depth} (2 inputs)`, graph: b.toBytes(), externalData: []},
		feeds: {a: float32Tensor(seededNormal(2, 'matmul.a', n * n), [n, n]), b: float32Tensor(bValues, [n, n])},
		flops: depth * 2 * n ** 3,
		label: `${n}³ ×${depth}`,
	};
};
