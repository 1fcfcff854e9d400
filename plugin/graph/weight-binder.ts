import {elementCount, type SafetensorsDtype} from '../model/tensor-dtype.js';
import type {WeightFile, WeightProblems, WeightRequest} from '../model/weight-problems.js';
import {OnnxType, type GraphBuilder} from './onnx-graph-builder.js';

export type ComputeType = 'float32' | 'float16';

export type {WeightFile, WeightProblems, WeightRequest} from '../model/weight-problems.js';

const DTYPE_TO_ONNX: Partial<Record<SafetensorsDtype, number>> = {
	F32: OnnxType.float32,
	F16: OnnxType.float16,
	BF16: OnnxType.bfloat16,
};

const withoutOnes = (shape: readonly number[]) => shape.filter((d) => d !== 1).join(',');

/**
 * Hands weights to a graph builder. Each `param(keys, shape)` call records what the builder
 * expects, so the very same code that builds a graph also defines what a valid model folder
 * contains: validation compares these requests with the safetensors headers (missing, extra,
 * wrong shape) before any graph is written. With `files === null` it only records requests
 * (used by the tiny-model generator to learn every tensor's name and shape from a config).
 */
export class WeightBinder {
	readonly requests: WeightRequest[] = [];
	private readonly bound = new Map<string, string>();
	private readonly problems: WeightProblems = {missing: [], mismatched: [], extra: []};

	constructor(
		private readonly builder: GraphBuilder,
		private readonly files: WeightFile[] | null,
		private readonly computeType: ComputeType,
	) {}

	/** Returns the value name of weight `keys[0]` (or the first alternative present) with `shape`. */
	param(keys: string | string[], shape: number[]): string {
		const list = typeof keys === 'string' ? [keys] : keys;
		const cached = this.bound.get(list[0]);
		if (cached) return cached;
		this.requests.push({keys: list, shape});
		const placeholder = `w:${list[0]}`;
		this.bound.set(list[0], placeholder);
		if (this.files === null) return placeholder;

		const found = this.find(list);
		if (!found) {
			this.problems.missing.push({keys: list, shape});
			return placeholder;
		}
		const {file, key} = found;
		const entry = file.index.tensors.get(key)!;
		const dataType = DTYPE_TO_ONNX[entry.dtype];
		const sameShape = entry.shape.join(',') === shape.join(',');
		// A [C, C, 1, 1] conv weight stands for a [C, C] linear one (and back): same bytes.
		const squeezable = !sameShape && withoutOnes(entry.shape) === withoutOnes(shape) && elementCount(entry.shape) === elementCount(shape);
		if (dataType === undefined || (!sameShape && !squeezable)) {
			this.problems.mismatched.push({key, expected: shape, actual: entry.shape, dtype: entry.dtype});
			return placeholder;
		}
		let value = this.builder.externalInitializer({
			name: `w:${key}`,
			dims: entry.shape,
			dataType,
			location: file.location,
			offset: entry.byteOffset,
			length: entry.byteLength,
		});
		const target = this.computeType === 'float16' ? OnnxType.float16 : OnnxType.float32;
		// Constant-folded by ORT at session creation: the cast costs nothing per run.
		if (dataType !== target) value = this.builder.op('Cast', [value], {to: target});
		if (squeezable) value = this.builder.op('Reshape', [value, this.builder.constInt64(shape)]);
		this.bound.set(list[0], value);
		return value;
	}

	private find(keys: string[]): {file: WeightFile; key: string} | null {
		for (const key of keys) {
			for (const file of this.files ?? []) {
				if (file.index.tensors.has(key)) return {file, key};
			}
		}
		return null;
	}

	/**
	 * Missing and mismatched tensors found while building, plus tensors in the files that no
	 * layer asked for (`ignore` lists buffers that real checkpoints carry and we do not need).
	 */
	report(ignore: RegExp[] = []): WeightProblems {
		const used = new Set<string>();
		for (const {keys} of this.requests) for (const key of keys) used.add(key);
		const extra: string[] = [];
		for (const file of this.files ?? []) {
			for (const key of file.index.tensors.keys()) {
				if (!used.has(key) && !ignore.some((re) => re.test(key))) extra.push(key);
			}
		}
		return {...this.problems, extra};
	}
}
