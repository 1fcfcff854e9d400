/** Deterministic pseudo-random bytes, different per frame and seed (test data for cache entries). */
export const frameBytes = (frame: number, bytes = 4096, seed = 1): Uint8Array => {
	const data = new Uint8Array(bytes);
	let x = ((frame + 1) * 2654435761 + seed * 97) >>> 0;
	for (let i = 0; i < bytes; i++) {
		x = (Math.imul(x, 1103515245) + 12345) >>> 0;
		data[i] = x >>> 24;
	}
	return data;
};
