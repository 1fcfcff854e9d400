import {CLIP_DEFAULTS} from './clip-defaults.js';
import type {AttentionPreset} from './reference-frames.js';

/**
 * The one home of the engine's defaults: what runFateZero, the clip jobs, `fatezero edit` and the
 * engine loader use when an option is left out. The descriptor defaults come from CLIP_DEFAULTS so
 * the two can never disagree; the CLI help interpolates these values, and `npx tsx scripts/defaults-table.ts`
 * prints the README's table from ENGINE_DEFAULT_NOTES (a Record over the keys: a default without a note does not compile).
 */
export const ENGINE_DEFAULTS = Object.freeze({
	steps: CLIP_DEFAULTS.steps,
	guidance: CLIP_DEFAULTS.guidance,
	attention: CLIP_DEFAULTS.attention as AttentionPreset,
	leastScChannel: CLIP_DEFAULTS.leastScChannel,
	crossReplace: CLIP_DEFAULTS.edit.crossReplace as number,
	selfReplace: CLIP_DEFAULTS.edit.selfReplace as number,
	blendThreshold: CLIP_DEFAULTS.edit.blendThreshold,
	controller: CLIP_DEFAULTS.edit.controller,
	latentBlend: CLIP_DEFAULTS.edit.latentBlend,
	frameCount: CLIP_DEFAULTS.frames.count,
	sizeInPixels: CLIP_DEFAULTS.size,
	attentionSource: 'recompute' as 'recompute' | 'stored',
	storagePrecision: 'float16' as 'float16' | 'float32',
	// the official FateZero fuses layers with at most 32² query tokens
	fusionMaxQueryTokens: 32 ** 2,
	maxAttentionMapElementsPerFrame: 2 * 1024 * 1024,
	memoryBudgetShareOfRam: 0.6,
	executionProvider: 'cpu' as 'cpu' | 'cuda' | 'webgpu',
	computeType: 'float32' as 'float32' | 'float16',
});

export type EngineDefaultKey = keyof typeof ENGINE_DEFAULTS;

/** What each default means, for the README table (`npx tsx scripts/defaults-table.ts`). */
export const ENGINE_DEFAULT_NOTES: Record<EngineDefaultKey, {option: string; note: string}> = {
	steps: {option: 'steps / --steps', note: 'DDIM steps of inversion and editing (official 50)'},
	guidance: {option: 'guidance / --guidance', note: 'classifier-free guidance'},
	attention: {option: 'attention / --attention', note: 'spatial-temporal reference frames (SparseCausalAttention_index)'},
	leastScChannel: {option: 'leastScChannel / --least-sc-channel', note: 'UNet levels with fewer channels keep per-frame self-attention'},
	crossReplace: {option: 'edit.crossReplace / --cross-replace', note: 'cross-attention replacement window (fraction of the steps)'},
	selfReplace: {option: 'edit.selfReplace / --self-replace', note: 'self-attention replacement window'},
	blendThreshold: {option: 'edit.blendThreshold / --blend-th', note: 'blend mask threshold (≥ 1 keeps the source)'},
	controller: {option: 'edit.controller / --controller', note: 'Replace for equal word counts, else Refine'},
	latentBlend: {option: 'edit.latentBlend / --latent-blend', note: 'also blend the latents with the blend words’ mask'},
	frameCount: {option: 'frames.count / --frames-count', note: 'frames taken from the source'},
	sizeInPixels: {option: 'size / --size', note: 'square frame side the model sees'},
	attentionSource: {option: '--attention-source', note: 'recompute the source attention each editing step (low memory) or keep it (stored)'},
	storagePrecision: {option: '--storage-precision', note: 'what stored mode keeps (float32 = recompute’s result)'},
	fusionMaxQueryTokens: {option: '--fusion-max-query-tokens', note: 'fuse only layers with at most this many query tokens (official 32²)'},
	maxAttentionMapElementsPerFrame: {option: 'maxAttentionMapElementsPerFrame', note: 'explicit attention maps are built in slices of at most this many elements per frame'},
	memoryBudgetShareOfRam: {option: '--memory-budget-mb', note: 'working memory beyond the weights, as a share of RAM; it decides the chunk size'},
	executionProvider: {option: '--execution-provider', note: 'cpu, cuda or webgpu'},
	computeType: {option: '--compute-type', note: 'precision inside the graphs'},
};
