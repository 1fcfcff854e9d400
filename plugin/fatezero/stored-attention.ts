import {floatToHalf, halfToFloat} from '../model/tensor-dtype.js';
import {float32Tensor, type HostTensor} from '../runtime/host-tensor.js';

/** Precision of the stored source queries/keys (stored mode). */
export type StoragePrecision = 'float16' | 'float32';

type StoredTensor = {dims: number[]; data: Float32Array | Uint16Array};

/**
 * The fused layers' source queries and keys of every inversion step, kept in RAM for the stored
 * attention mode — at fp16 by default (≈170 MB per step at 512² × 8 frames instead of the
 * official ≈741 MB of probabilities); fp32 keeps the exact recompute-mode result.
 */
export class StoredAttentionSteps {
	private readonly steps = new Map<number, Map<string, StoredTensor>>();
	bytes = 0;

	constructor(readonly precision: StoragePrecision) {}

	put(step: number, name: string, tensor: HostTensor): void {
		const source = tensor.data as Float32Array;
		let data: Float32Array | Uint16Array;
		if (this.precision === 'float32') {
			data = source;
		} else {
			data = new Uint16Array(source.length);
			for (let i = 0; i < source.length; i++) data[i] = floatToHalf(source[i]);
		}
		if (!this.steps.has(step)) this.steps.set(step, new Map());
		this.steps.get(step)!.set(name, {dims: tensor.dims, data});
		this.bytes += data.byteLength;
	}

	/** The step's tensors as float32 feeds. */
	get(step: number): Map<string, HostTensor> {
		const stored = this.steps.get(step);
		const out = new Map<string, HostTensor>();
		for (const [name, {dims, data}] of stored ?? []) {
			out.set(name, float32Tensor(data instanceof Float32Array ? data : Float32Array.from(data, halfToFloat), dims));
		}
		return out;
	}
}
