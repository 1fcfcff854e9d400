/**
 * Seeded random weights for generated test models. Every tensor gets its own stream derived from
 * (seed, tensor name), so a tensor's values do not depend on which other tensors exist or on
 * the order they are written in.
 */

/** FNV-1a over the name, mixed with the seed: a 32-bit stream id. */
const streamSeed = (seed: number, name: string): number => {
	let h = 0x811c9dc5 ^ seed;
	for (let i = 0; i < name.length; i++) {
		h ^= name.charCodeAt(i);
		h = Math.imul(h, 0x01000193);
	}
	return h >>> 0;
};

/** mulberry32: small, fast, good enough for weights. */
const uniformStream = (seed: number) => {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
};

/** Standard normal values (Box-Muller), `count` of them, from stream (seed, name). */
export const seededNormal = (seed: number, name: string, count: number): Float32Array => {
	const next = uniformStream(streamSeed(seed, name));
	const out = new Float32Array(count);
	for (let i = 0; i < count; i += 2) {
		const u1 = 1 - next();
		const u2 = next();
		const r = Math.sqrt(-2 * Math.log(u1));
		out[i] = r * Math.cos(2 * Math.PI * u2);
		if (i + 1 < count) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
	}
	return out;
};

/**
 * Values for one weight of a diffusers/transformers model, by its role:
 * - norm scales: 1 + 0.1·N (so every norm parameter matters, as in the golden model);
 * - biases and norm shifts: 0.02·N;
 * - embeddings: 0.02·N (CLIP's init);
 * - matrices and convs: N / sqrt(fan_in), which keeps activations O(1) through deep stacks.
 */
export const randomWeightValues = (seed: number, name: string, shape: number[]): Float32Array => {
	const count = shape.reduce((a, b) => a * b, 1);
	const values = seededNormal(seed, name, count);
	const isNorm = /(^|\.)(norm\d*|norm_out|conv_norm_out|group_norm|layer_norm\d*|final_layer_norm|norm)\./.test(name) || /norm[^.]*\.(weight|bias)$/.test(name);
	let scale: number;
	let offset = 0;
	if (isNorm && name.endsWith('.weight')) {
		scale = 0.1;
		offset = 1;
	} else if (name.endsWith('.bias') || shape.length === 1) {
		scale = 0.02;
	} else if (/(token|position)_embedding\.weight$/.test(name)) {
		scale = 0.02;
	} else {
		scale = 1 / Math.sqrt(count / shape[0]);
	}
	for (let i = 0; i < count; i++) values[i] = values[i] * scale + offset;
	return values;
};
