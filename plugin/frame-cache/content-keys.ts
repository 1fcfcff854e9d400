import {canonicalJson, type JsonValue} from '../clip/canonical-json.js';
import type {ClipAttention, ClipDescriptor, ClipEdit, ClipFrames} from '../clip/clip-descriptor.js';
import {ENGINE_VERSION} from '../clip/engine-version.js';
import {sha256Hex} from '../clip/sha256-hex.js';

/**
 * Content keys: what the cache entries are named by, computed in Node where files can be read.
 * They chain (source → inversion → edit), so everything upstream of a change is reused: variants
 * of one source and source prompt share a source entry and an inversion, renaming a source file
 * changes nothing (its bytes are hashed, not its path), editing its bytes changes every key.
 * Each key hashes a tagged canonical JSON record with the engine version; fields that do not
 * change pixels (labels, progress options, cache paths, the path of the model folder) are in none.
 */

/**
 * Runtime choices outside the descriptor that change pixels (enginePixelOptions builds them for
 * an engine run). Omit or pass {} only for entries no engine touched.
 */
export type PixelOptions = {[option: string]: JsonValue};

/** How an engine run was resolved: everything outside the descriptor that changes its pixels. */
export type EngineKeyOptions = {
	frameCount: number;
	/** The resolved chunk size (from --chunk-size, or the memory budget and the machine's RAM): chunks approximate the whole-clip batch. */
	chunkSizeInFrames: number;
	/** float16 weights and activations give other pixels than float32. */
	computeType: 'float32' | 'float16';
	/**
	 * Providers run other kernels (CUDA's convolutions and reductions sum in another order, some
	 * with TF32), and no bound between their results has been measured, so the provider is part
	 * of the key: two machines share an entry only when they ran the same provider.
	 */
	executionProvider: 'cpu' | 'cuda' | 'webgpu';
	/** Recompute and stored mode run different UNet graphs. */
	attentionSource: 'recompute' | 'stored';
	/** Stored mode only: float16 keeps rounded queries/keys. Recompute mode stores nothing, so it is left out there. */
	storagePrecision?: 'float16' | 'float32';
};

/**
 * The pixel options of an engine run, normalised so that equal results share a key: a chunk of at
 * least the whole clip is the whole clip, and the storage precision counts only in stored mode.
 * Thread counts, the memory budget itself (only the chunk size it yields), paths and progress
 * options leave pixels unchanged and are in no key.
 */
export const enginePixelOptions = (options: EngineKeyOptions): PixelOptions => ({
	chunkSizeInFrames: Math.min(options.chunkSizeInFrames, options.frameCount),
	computeType: options.computeType,
	executionProvider: options.executionProvider,
	attentionSource: options.attentionSource,
	...(options.attentionSource === 'stored' ? {storagePrecision: options.storagePrecision ?? 'float16'} : {}),
});

export type SourceKeyInput = {
	/** SHA-256 of the source's bytes (hashSourceContent in plugin/media). */
	contentHash: string;
	/** Which frames are taken (start, count, stride or fps). */
	frames: ClipFrames;
	/** Square side the frames are resized to. */
	size: number;
	/**
	 * The crop the importer applies, resolved (resolveCropOption in plugin/media: 'center' and
	 * absent are both zero offsets), so equivalent spellings share a key. null: no crop option.
	 */
	crop?: JsonValue;
};

export type InversionKeyInput = {
	sourceKey: string;
	/** computeModelIdentity(): configs, tokenizer and sampled weights, not the folder path. */
	modelIdentity: string;
	sourcePrompt: string;
	steps: number;
	// The UNet's spatial-temporal self-attention already runs during inversion (and its maps are
	// what the edit fuses), so the reference-frame layout shapes the inverted latents.
	attention: ClipAttention;
	leastScChannel: number;
	pixelOptions?: PixelOptions;
};

export type EditKeyInput = {
	inversionKey: string;
	prompt: string;
	guidance: number;
	seed: number;
	/** Every fusion / prompt-to-prompt parameter. */
	edit: ClipEdit;
	pixelOptions?: PixelOptions;
};

const digest = (tag: string, fields: {[field: string]: JsonValue}): string => sha256Hex(canonicalJson({key: tag, engineVersion: ENGINE_VERSION, ...fields}));

/** Key of an imported source: content hash + frame selection + size + crop. */
export const sourceKey = (input: SourceKeyInput): string =>
	digest('source/1', {
		contentHash: input.contentHash,
		frames: {start: input.frames.start, count: input.frames.count, stride: input.frames.stride, fps: input.frames.fps},
		size: input.size,
		crop: input.crop ?? null,
	});

/** Key of an inversion: source key + model identity + source prompt + steps + attention layout (+ pixel options). */
export const inversionKey = (input: InversionKeyInput): string =>
	digest('inversion/1', {
		sourceKey: input.sourceKey,
		modelIdentity: input.modelIdentity,
		sourcePrompt: input.sourcePrompt,
		steps: input.steps,
		attention: input.attention,
		leastScChannel: input.leastScChannel,
		pixelOptions: input.pixelOptions ?? {},
	});

/** Key of an edited clip: inversion key + target prompt + guidance + seed + every edit parameter (+ pixel options). */
export const editKey = (input: EditKeyInput): string =>
	digest('edit/1', {
		inversionKey: input.inversionKey,
		prompt: input.prompt,
		guidance: input.guidance,
		seed: input.seed,
		edit: input.edit as unknown as JsonValue,
		pixelOptions: input.pixelOptions ?? {},
	});

export type ClipContentKeys = {sourceKey: string; inversionKey: string; editKey: string};

/** The three content keys of a canonical descriptor (fateZeroClip output), given what only Node knows. */
export const clipContentKeys = (
	descriptor: ClipDescriptor,
	known: {contentHash: string; modelIdentity: string; crop?: JsonValue; pixelOptions?: PixelOptions},
): ClipContentKeys => {
	const source = sourceKey({contentHash: known.contentHash, frames: descriptor.frames, size: descriptor.size, crop: known.crop});
	const inversion = inversionKey({
		sourceKey: source,
		modelIdentity: known.modelIdentity,
		sourcePrompt: descriptor.sourcePrompt,
		steps: descriptor.steps,
		attention: descriptor.attention,
		leastScChannel: descriptor.leastScChannel,
		pixelOptions: known.pixelOptions,
	});
	const edit = editKey({inversionKey: inversion, prompt: descriptor.prompt, guidance: descriptor.guidance, seed: descriptor.seed, edit: descriptor.edit, pixelOptions: known.pixelOptions});
	return {sourceKey: source, inversionKey: inversion, editKey: edit};
};
