/** safetensors dtypes the reader understands, with their byte sizes. */
export const SAFETENSORS_DTYPE_BYTES = {
	F64: 8,
	F32: 4,
	F16: 2,
	BF16: 2,
	I64: 8,
	I32: 4,
	I16: 2,
	I8: 1,
	U8: 1,
	BOOL: 1,
} as const;

export type SafetensorsDtype = keyof typeof SAFETENSORS_DTYPE_BYTES;

export const isSafetensorsDtype = (value: unknown): value is SafetensorsDtype =>
	typeof value === 'string' && Object.hasOwn(SAFETENSORS_DTYPE_BYTES, value);

export const elementCount = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

const f16Scratch = new Float32Array(1);
const f16ScratchBits = new Uint32Array(f16Scratch.buffer);

/** IEEE half -> float, exact (every half is representable as a float). */
export const halfToFloat = (h: number): number => {
	const sign = (h & 0x8000) << 16;
	const exponent = (h >> 10) & 0x1f;
	const mantissa = h & 0x3ff;
	if (exponent === 0) {
		// subnormal or zero: value = mantissa * 2^-24
		const value = mantissa * 2 ** -24;
		return sign ? -value : value;
	}
	if (exponent === 31) {
		f16ScratchBits[0] = sign | 0x7f800000 | (mantissa << 13);
		return f16Scratch[0];
	}
	f16ScratchBits[0] = sign | ((exponent + 112) << 23) | (mantissa << 13);
	return f16Scratch[0];
};

/** float -> IEEE half with round-to-nearest-even (what torch's .half() does). */
export const floatToHalf = (value: number): number => {
	f16Scratch[0] = value;
	const x = f16ScratchBits[0];
	const sign = (x >>> 16) & 0x8000;
	const exponent = (x >>> 23) & 0xff;
	let mantissa = x & 0x7fffff;
	if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
	const e = exponent - 112;
	if (e >= 31) return sign | 0x7c00;
	if (e <= 0) {
		if (e < -10) return sign;
		mantissa |= 0x800000;
		const shift = 14 - e;
		let half = mantissa >> shift;
		const rest = mantissa & ((1 << shift) - 1);
		const halfway = 1 << (shift - 1);
		if (rest > halfway || (rest === halfway && (half & 1))) half += 1;
		return sign | half;
	}
	let half = (e << 10) | (mantissa >> 13);
	const rest = mantissa & 0x1fff;
	if (rest > 0x1000 || (rest === 0x1000 && (half & 1))) half += 1;
	return sign | half;
};

/** Decodes little-endian raw tensor bytes of a float dtype into a Float32Array. */
export const decodeFloatTensor = (dtype: SafetensorsDtype, bytes: Uint8Array): Float32Array => {
	const copy = (byteSize: number) => {
		// copy into an aligned buffer: safetensors offsets are not aligned
		const aligned = new Uint8Array(bytes.byteLength);
		aligned.set(bytes);
		return aligned.buffer.slice(0, Math.floor(bytes.byteLength / byteSize) * byteSize);
	};
	switch (dtype) {
		case 'F32':
			return new Float32Array(copy(4));
		case 'F64':
			return Float32Array.from(new Float64Array(copy(8)));
		case 'F16': {
			const halves = new Uint16Array(copy(2));
			const out = new Float32Array(halves.length);
			for (let i = 0; i < halves.length; i++) out[i] = halfToFloat(halves[i]);
			return out;
		}
		case 'BF16': {
			const halves = new Uint16Array(copy(2));
			const bits = new Uint32Array(halves.length);
			for (let i = 0; i < halves.length; i++) bits[i] = halves[i] << 16;
			return new Float32Array(bits.buffer);
		}
		default:
			throw new TypeError(`decodeFloatTensor: dtype ${dtype} is not a float type`);
	}
};
