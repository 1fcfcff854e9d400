import {closeSync, fstatSync, openSync, readSync, writeSync} from 'node:fs';
import {FateZeroError} from '../errors/fatezero-error.js';
import {
	SAFETENSORS_DTYPE_BYTES,
	decodeFloatTensor,
	elementCount,
	isSafetensorsDtype,
	type SafetensorsDtype,
} from './tensor-dtype.js';

/** One tensor of a safetensors file: where its bytes are, absolutely, in the file. */
export type SafetensorsEntry = {
	name: string;
	dtype: SafetensorsDtype;
	shape: number[];
	/** Absolute byte offset in the file (8 + header length + data_offsets[0]). */
	byteOffset: number;
	byteLength: number;
};

export type SafetensorsIndex = {
	path: string;
	fileSizeInBytes: number;
	tensors: Map<string, SafetensorsEntry>;
	metadata: Record<string, string>;
};

// A header bigger than this is not a safetensors file (the format caps it at 100 MB).
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

const invalid = (path: string, what: string, todo: string) =>
	new FateZeroError('MODEL_WEIGHTS_INVALID', `${path} is not a valid safetensors file: ${what}. ${todo}`);

const REDOWNLOAD = 'The file is probably truncated or corrupt: download it again.';

/**
 * Reads only the JSON header of a safetensors file and checks that every tensor's bytes lie
 * inside the file, so a truncated download fails here with its name instead of deep in ORT.
 */
export const readSafetensorsIndex = (path: string): SafetensorsIndex => {
	const fd = openSync(path, 'r');
	try {
		const fileSizeInBytes = fstatSync(fd).size;
		if (fileSizeInBytes < 8) {
			throw invalid(path, `the file has ${fileSizeInBytes} bytes, fewer than the 8-byte header length`, REDOWNLOAD);
		}
		const lengthBytes = Buffer.alloc(8);
		readSync(fd, lengthBytes, 0, 8, 0);
		const headerLength = Number(lengthBytes.readBigUInt64LE(0));
		if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > fileSizeInBytes) {
			throw invalid(
				path,
				`the header claims ${headerLength} bytes but the file has ${fileSizeInBytes}`,
				REDOWNLOAD,
			);
		}
		const headerBytes = Buffer.alloc(headerLength);
		readSync(fd, headerBytes, 0, headerLength, 8);
		let header: Record<string, unknown>;
		try {
			header = JSON.parse(headerBytes.toString('utf8'));
		} catch (error) {
			throw invalid(path, `its header is not JSON (${(error as Error).message})`, REDOWNLOAD);
		}
		const dataStart = 8 + headerLength;
		const tensors = new Map<string, SafetensorsEntry>();
		let metadata: Record<string, string> = {};
		for (const [name, raw] of Object.entries(header)) {
			if (name === '__metadata__') {
				metadata = (raw ?? {}) as Record<string, string>;
				continue;
			}
			const entry = raw as {dtype?: unknown; shape?: unknown; data_offsets?: unknown};
			if (!isSafetensorsDtype(entry?.dtype)) {
				throw invalid(path, `tensor "${name}" has unsupported dtype ${JSON.stringify(entry?.dtype)}`, 'Save the weights as F32, F16 or BF16.');
			}
			const shape = entry.shape as number[];
			const offsets = entry.data_offsets as [number, number];
			if (!Array.isArray(shape) || !Array.isArray(offsets) || offsets.length !== 2) {
				throw invalid(path, `tensor "${name}" has no shape or data_offsets`, REDOWNLOAD);
			}
			const byteLength = offsets[1] - offsets[0];
			const expectedBytes = elementCount(shape) * SAFETENSORS_DTYPE_BYTES[entry.dtype];
			if (byteLength !== expectedBytes) {
				throw invalid(path, `tensor "${name}" ${entry.dtype}[${shape.join(', ')}] needs ${expectedBytes} bytes but spans ${byteLength}`, REDOWNLOAD);
			}
			if (dataStart + offsets[1] > fileSizeInBytes) {
				throw invalid(
					path,
					`tensor "${name}" ends at byte ${dataStart + offsets[1]} but the file has only ${fileSizeInBytes} bytes`,
					REDOWNLOAD,
				);
			}
			tensors.set(name, {name, dtype: entry.dtype, shape, byteOffset: dataStart + offsets[0], byteLength});
		}
		return {path, fileSizeInBytes, tensors, metadata};
	} finally {
		closeSync(fd);
	}
};

/** Reads the raw bytes of one tensor. */
export const readTensorBytes = (index: SafetensorsIndex, name: string): Uint8Array => {
	const entry = index.tensors.get(name);
	if (!entry) {
		throw new FateZeroError('MODEL_WEIGHTS_MISMATCH', `${index.path} has no tensor "${name}".`);
	}
	const fd = openSync(index.path, 'r');
	try {
		const bytes = Buffer.alloc(entry.byteLength);
		readSync(fd, bytes, 0, entry.byteLength, entry.byteOffset);
		return bytes;
	} finally {
		closeSync(fd);
	}
};

/** Reads one float tensor (F32, F16, BF16 or F64) as Float32Array. */
export const readFloatTensor = (index: SafetensorsIndex, name: string): {shape: number[]; data: Float32Array} => {
	const entry = index.tensors.get(name);
	const bytes = readTensorBytes(index, name);
	return {shape: entry!.shape, data: decodeFloatTensor(entry!.dtype, bytes)};
};

/** Reads one I64 tensor as BigInt64Array. */
export const readInt64Tensor = (index: SafetensorsIndex, name: string): {shape: number[]; data: BigInt64Array} => {
	const entry = index.tensors.get(name);
	const bytes = readTensorBytes(index, name);
	if (entry!.dtype !== 'I64') {
		throw new TypeError(`readInt64Tensor: "${name}" in ${index.path} is ${entry!.dtype}, not I64`);
	}
	const aligned = new Uint8Array(bytes.byteLength);
	aligned.set(bytes);
	return {shape: entry!.shape, data: new BigInt64Array(aligned.buffer)};
};

export type TensorToWrite = {
	dtype: SafetensorsDtype;
	shape: number[];
	/**
	 * Little-endian raw bytes, already in `dtype`; or a function that makes them when the
	 * writer reaches this tensor, so multi-GB files are written without holding them in memory.
	 */
	bytes: Uint8Array | (() => Uint8Array);
};

/** The 8-byte length + JSON header (padded with spaces to 8 bytes) for tensors in the given order. */
const encodeHeader = (tensors: Record<string, TensorToWrite>, metadata?: Record<string, string>): Buffer => {
	const header: Record<string, unknown> = {};
	if (metadata) header.__metadata__ = metadata;
	let offset = 0;
	for (const [name, tensor] of Object.entries(tensors)) {
		const expected = elementCount(tensor.shape) * SAFETENSORS_DTYPE_BYTES[tensor.dtype];
		header[name] = {dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + expected]};
		offset += expected;
	}
	let json = JSON.stringify(header);
	json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
	const headerBytes = Buffer.from(json, 'utf8');
	const lengthBytes = Buffer.alloc(8);
	lengthBytes.writeBigUInt64LE(BigInt(headerBytes.length));
	return Buffer.concat([lengthBytes, headerBytes]);
};

const tensorBytes = (name: string, tensor: TensorToWrite): Uint8Array => {
	const bytes = typeof tensor.bytes === 'function' ? tensor.bytes() : tensor.bytes;
	const expected = elementCount(tensor.shape) * SAFETENSORS_DTYPE_BYTES[tensor.dtype];
	if (bytes.byteLength !== expected) {
		throw new TypeError(`writeSafetensors: "${name}" has ${bytes.byteLength} bytes, expected ${expected}`);
	}
	return bytes;
};

/** A whole safetensors file in memory (for small files written through another writer). */
export const encodeSafetensors = (tensors: Record<string, TensorToWrite>, metadata?: Record<string, string>): Uint8Array =>
	Buffer.concat([encodeHeader(tensors, metadata), ...Object.entries(tensors).map(([name, tensor]) => tensorBytes(name, tensor))]);

/** Writes a safetensors file tensor by tensor (lazy tensors are made as the writer reaches them). */
export const writeSafetensors = (path: string, tensors: Record<string, TensorToWrite>, metadata?: Record<string, string>): void => {
	const fd = openSync(path, 'w');
	try {
		writeSync(fd, encodeHeader(tensors, metadata));
		for (const [name, tensor] of Object.entries(tensors)) writeSync(fd, tensorBytes(name, tensor));
	} finally {
		closeSync(fd);
	}
};
