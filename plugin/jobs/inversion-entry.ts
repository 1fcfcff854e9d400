import path from 'node:path';
import type {ChunkBatch} from '../fatezero/chunk-plan.js';
import type {ClipInversion} from '../fatezero/invert-clip.js';
import type {JsonValue} from '../clip/canonical-json.js';
import {encodeSafetensors, readFloatTensor, readSafetensorsIndex, type TensorToWrite} from '../model/safetensors-file.js';
import type {EntryWriter} from '../frame-cache/publish-entry.js';
import {FateZeroError} from '../errors/fatezero-error.js';
import {assertFinite, firstNonFinite} from '../media/assert-finite.js';
import {concatFloat32} from '../runtime/host-tensor.js';

const FILE = 'inversion.safetensors';

/** Concatenated float32 arrays as raw little-endian bytes. */
const bytesOf = (arrays: Float32Array[]): Uint8Array => new Uint8Array(concatFloat32(arrays).buffer);

/**
 * An inversion as a cache entry: the N+1 inverted latents and, per chunk, the mask maps of every
 * step (recompute mode needs nothing else — design §4), plus the chunk plan in the manifest.
 */
export const writeInversionEntry = async (writer: EntryWriter, inversion: ClipInversion, latentShape: number[]): Promise<{data: {[k: string]: JsonValue}}> => {
	// a NaN inversion would be cached with valid checksums and edited into black clips
	inversion.latents.forEach((latent, k) => assertFinite(latent, {stage: 'inversion', what: `the inverted latents of step ${k}`}));
	inversion.chunks.forEach((chunk, c) => chunk.maskMaps.forEach((map, k) => assertFinite(map, {stage: 'inversion', what: `the mask maps of chunk ${c}, step ${k}`})));
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
	// written before NaN checks existed, or by hand: refuse to edit from it
	if (firstNonFinite(latents.data) >= 0) {
		throw new FateZeroError('CACHE_CORRUPT', `The cached inversion ${path.join(dir, FILE)} holds NaN or Infinity latents (its checksums match: it was stored so). Delete the folder ${dir}; the next run inverts the clip again.`);
	}
	const steps = latents.shape[0];
	const size = latents.data.length / steps;
	const chunks = (data.chunks as unknown as ChunkBatch[]).map((batch, c) => {
		const maps = readFloatTensor(index, `chunk${c}.mask_maps`);
		const per = maps.shape[1];
		return {batch, maskMaps: Array.from({length: maps.shape[0]}, (_, k) => maps.data.slice(k * per, (k + 1) * per)), stored: null};
	});
	return {latents: Array.from({length: steps}, (_, k) => latents.data.slice(k * size, (k + 1) * size)), timesteps: data.timesteps as number[], chunks};
};
