import path from 'node:path';
import type {ChunkBatch} from '../fatezero/chunk-plan.js';
import type {ClipInversion} from '../fatezero/invert-clip.js';
import type {JsonValue} from '../clip/canonical-json.js';
import {encodeSafetensors, readFloatTensor, readSafetensorsIndex, type TensorToWrite} from '../model/safetensors-file.js';
import type {EntryWriter} from '../frame-cache/publish-entry.js';

const FILE = 'inversion.safetensors';

/** Concatenated float32 arrays as raw little-endian bytes. */
const bytesOf = (arrays: Float32Array[]): Uint8Array => {
	const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
	let offset = 0;
	for (const a of arrays) {
		out.set(a, offset);
		offset += a.length;
	}
	return new Uint8Array(out.buffer);
};

/**
 * An inversion as a cache entry: the N+1 inverted latents and, per chunk, the mask maps of every
 * step (recompute mode needs nothing else — design §4), plus the chunk plan in the manifest.
 */
export const writeInversionEntry = async (writer: EntryWriter, inversion: ClipInversion, latentShape: number[]): Promise<{data: {[k: string]: JsonValue}}> => {
	const tensors: Record<string, TensorToWrite> = {
		latents: {dtype: 'F32', shape: [inversion.latents.length, ...latentShape], bytes: bytesOf(inversion.latents)},
	};
	inversion.chunks.forEach((chunk, c) => {
		const perStep = chunk.maskMaps[0]?.length ?? 0;
		tensors[`chunk${c}.mask_maps`] = {dtype: 'F32', shape: [chunk.maskMaps.length, perStep], bytes: bytesOf(chunk.maskMaps)};
	});
	await writer.writeFile(FILE, encodeSafetensors(tensors));
	return {data: {timesteps: inversion.timesteps, chunks: inversion.chunks.map((c) => c.batch) as unknown as JsonValue}};
};

export const readInversionEntry = (dir: string, data: {[k: string]: JsonValue}): ClipInversion => {
	const index = readSafetensorsIndex(path.join(dir, FILE));
	const latents = readFloatTensor(index, 'latents');
	const steps = latents.shape[0];
	const size = latents.data.length / steps;
	const chunks = (data.chunks as unknown as ChunkBatch[]).map((batch, c) => {
		const maps = readFloatTensor(index, `chunk${c}.mask_maps`);
		const per = maps.shape[1];
		return {batch, maskMaps: Array.from({length: maps.shape[0]}, (_, k) => maps.data.slice(k * per, (k + 1) * per)), stored: null};
	});
	return {latents: Array.from({length: steps}, (_, k) => latents.data.slice(k * size, (k + 1) * size)), timesteps: data.timesteps as number[], chunks};
};
