import {existsSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {readFloatTensor, readInt64Tensor, readSafetensorsIndex, type SafetensorsIndex} from '../../plugin/model/safetensors-file.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** ../shared beside the clone (read-only reference data); tests skip with a message when absent. */
export const sharedDir = path.resolve(here, '../../../shared');
export const goldenDir = path.join(sharedDir, 'golden');
export const footageDir = path.join(sharedDir, 'footage');
export const hasGolden = existsSync(path.join(goldenDir, 'README.md'));
export const hasFootage = existsSync(path.join(footageDir, 'car-turn', '00000.png'));
export const goldenSkipReason = `golden data not found at ${goldenDir}: parity tests skipped`;

export class GoldenFile {
	readonly index: SafetensorsIndex;
	constructor(relativePath: string) {
		this.index = readSafetensorsIndex(path.join(goldenDir, relativePath));
	}
	names(): string[] {
		return [...this.index.tensors.keys()];
	}
	float(name: string): {shape: number[]; data: Float32Array} {
		return readFloatTensor(this.index, name);
	}
	int64(name: string): {shape: number[]; data: BigInt64Array} {
		return readInt64Tensor(this.index, name);
	}
}

/** max |a - ref| / max |ref| — the relative tolerance measure. */
export const relativeError = (actual: ArrayLike<number>, reference: ArrayLike<number>): number => {
	if (actual.length !== reference.length) throw new Error(`length ${actual.length} != ${reference.length}`);
	let maxDiff = 0;
	let maxRef = 0;
	for (let i = 0; i < reference.length; i++) {
		maxDiff = Math.max(maxDiff, Math.abs(actual[i] - reference[i]));
		maxRef = Math.max(maxRef, Math.abs(reference[i]));
	}
	if (Number.isNaN(maxDiff)) return Number.NaN;
	return maxDiff / (maxRef || 1);
};

export const maxAbsDiff = (actual: ArrayLike<number>, reference: ArrayLike<number>): number => {
	if (actual.length !== reference.length) throw new Error(`length ${actual.length} != ${reference.length}`);
	let maxDiff = 0;
	for (let i = 0; i < reference.length; i++) {
		const d = Math.abs(actual[i] - reference[i]);
		if (!(d <= maxDiff)) maxDiff = Number.isNaN(d) ? Number.NaN : d;
		if (Number.isNaN(maxDiff)) return maxDiff;
	}
	return maxDiff;
};
