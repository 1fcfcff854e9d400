import path from 'node:path';
import {GraphBuilder, OnnxType} from '../../plugin/graph/onnx-graph-builder.js';
import {seededNormal} from '../../plugin/model/random-weights.js';
import {readSafetensorsIndex, writeSafetensors} from '../../plugin/model/safetensors-file.js';
import type {SessionSpec} from '../../plugin/runtime/index.js';

export type MatmulProbe = {
	spec: SessionSpec;
	/** Shape of the input `a`; the constant weight is [k, n]. */
	inputDims: [number, number];
	flops: number;
	label: string;
};

/**
 * The reference the UNet is measured against: y = a · W with a [m, k] fed at run time and
 * W [k, n] a constant initializer read from a safetensors file through external data — the way
 * every UNet weight reaches ORT, so both sessions get the same prepacking and loading path.
 */
export const buildMatmulProbe = (dir: string, m: number, k: number, n: number): MatmulProbe => {
	const file = path.join(dir, 'matmul-weight.safetensors');
	const location = 'matmul-weight.safetensors';
	const weight = seededNormal(1, 'matmul.weight', k * n).map((v) => v / Math.sqrt(k));
	writeSafetensors(file, {weight: {dtype: 'F32', shape: [k, n], bytes: new Uint8Array(weight.buffer)}});
	const entry = readSafetensorsIndex(file).tensors.get('weight')!;

	const b = new GraphBuilder('matmul-probe');
	const a = b.input('a', 'float32', [m, k]);
	const w = b.externalInitializer({
		name: 'weight',
		dims: [k, n],
		dataType: OnnxType.float32,
		location,
		offset: entry.byteOffset,
		length: entry.byteLength,
	});
	b.output('y', b.op('MatMul', [a, w]), 'float32', [m, n]);
	return {
		spec: {label: `matmul ${m}×${k}×${n}`, graph: b.toBytes(), externalData: [{location, file}]},
		inputDims: [m, k],
		flops: 2 * m * k * n,
		label: `${m}×${k}×${n}`,
	};
};
