/**
 * Tensors as plain data, so they cross the worker-thread boundary by transfer and the rest of
 * the plugin never touches onnxruntime types.
 */
export type HostTensor =
	| {type: 'float32'; dims: number[]; data: Float32Array}
	/** IEEE half floats as raw bits: only for bulk data that is stored, never computed on, in JS. */
	| {type: 'float16'; dims: number[]; data: Uint16Array}
	| {type: 'int64'; dims: number[]; data: BigInt64Array}
	| {type: 'int32'; dims: number[]; data: Int32Array};

export const float32Tensor = (data: Float32Array, dims: number[]): HostTensor => {
	const count = dims.reduce((a, b) => a * b, 1);
	if (count !== data.length) {
		throw new TypeError(`float32Tensor: ${data.length} values do not fill shape [${dims.join(', ')}] (${count})`);
	}
	return {type: 'float32', dims, data};
};

export const float16Tensor = (data: Uint16Array, dims: number[]): HostTensor => {
	const count = dims.reduce((a, b) => a * b, 1);
	if (count !== data.length) {
		throw new TypeError(`float16Tensor: ${data.length} values do not fill shape [${dims.join(', ')}] (${count})`);
	}
	return {type: 'float16', dims, data};
};

export const int64Tensor = (values: ArrayLike<number | bigint>, dims: number[]): HostTensor => {
	const data = BigInt64Array.from(Array.from(values), (v) => BigInt(v));
	const count = dims.reduce((a, b) => a * b, 1);
	if (count !== data.length) {
		throw new TypeError(`int64Tensor: ${data.length} values do not fill shape [${dims.join(', ')}] (${count})`);
	}
	return {type: 'int64', dims, data};
};

/** The arrays end to end in one new Float32Array (clips batched along their first axis, latents of every step). */
export const concatFloat32 = (parts: readonly Float32Array[]): Float32Array => {
	const out = new Float32Array(parts.reduce((n, part) => n + part.length, 0));
	let offset = 0;
	for (const part of parts) {
		out.set(part, offset);
		offset += part.length;
	}
	return out;
};
