import {ENGINE_DEFAULTS} from '../clip/engine-defaults.js';
import {loadStableDiffusion, type LoadStableDiffusionOptions, type StableDiffusion} from '../diffusion/load-stable-diffusion.js';
import {FateZeroError} from '../errors/fatezero-error.js';
import {createFusionHook, DEFAULT_MAX_ATTENTION_MAP_ELEMENTS_PER_FRAME} from './fusion-graph-hook.js';
import {DEFAULT_STORAGE_PRECISION, type FusionMode, type StoragePrecision} from './fusion-io.js';
import {OFFICIAL_FUSION_MAX_QUERY_TOKENS, planFusion, type FusionPlan} from './fusion-plan.js';

/** Official `least_sc_channel`: SD-1.x levels with 640 or more channels read the reference frames. */
export const DEFAULT_LEAST_SC_CHANNEL = ENGINE_DEFAULTS.leastScChannel;

export type LoadFateZeroOptions = Omit<LoadStableDiffusionOptions, 'unetVariant' | 'referenceFramesMinChannels'> & {
	/** Frame side in pixels (square, a multiple of 8 · 2^(levels − 1): 64 for SD-1.x). */
	sizeInPixels: number;
	/** Self-attention in UNet levels with at least this many channels reads reference frames (official `least_sc_channel`). Default 640. */
	leastScChannel?: number;
	/** Layers with at most this many query tokens are fused (official: 32² = 1024, absolute). */
	fusionMaxQueryTokens?: number;
	/** Where the fused layers' source attention comes from; see fusion-io.ts. Default 'recompute'. */
	attentionSource?: FusionMode;
	/**
	 * Explicit attention maps (cross-attention only: 77 keys; self-attention fusion uses the fused
	 * kernel) are built a few heads at a time, each slice at most this many heads × query × key
	 * tokens per frame (default 2²¹: one slice for every SD-1.x layer up to 64² queries). Lower
	 * trades a little speed for memory; results do not change.
	 */
	maxAttentionMapElementsPerFrame?: number;
	/**
	 * Stored mode: element type of the kept source queries/keys, in RAM and at the UNet's inputs.
	 * 'float16' (default) halves their memory; 'float32' reproduces the recompute mode exactly.
	 */
	storagePrecision?: StoragePrecision;
};

export type FateZeroEngine = StableDiffusion & {
	plan: FusionPlan;
	attentionSource: FusionMode;
	sizeInPixels: number;
	latentSize: number;
	/** The bound the fused layers' explicit maps were sliced by (see LoadFateZeroOptions). */
	maxAttentionMapElementsPerFrame: number;
	storagePrecision: StoragePrecision;
	/** Self-attention levels with at least this many channels read the reference frames. */
	leastScChannel: number;
};

/**
 * The model with FateZero's UNet: one graph per attention-source mode serves inversion and
 * editing (so one copy of the UNet weights is in memory). Graphs depend on the frame size (the
 * fused layers are chosen by their query-token count), so one engine serves one size.
 */
export const loadFateZero = async (options: LoadFateZeroOptions): Promise<FateZeroEngine> => {
	const mode = options.attentionSource ?? ENGINE_DEFAULTS.attentionSource;
	const maxQueryTokens = options.fusionMaxQueryTokens ?? OFFICIAL_FUSION_MAX_QUERY_TOKENS;
	if (!Number.isInteger(maxQueryTokens) || maxQueryTokens < 1) {
		throw new FateZeroError('INVALID_OPTION', `fusionMaxQueryTokens is ${maxQueryTokens}; give a whole number of query tokens (the official FateZero uses 1024 = 32²).`);
	}
	const maxMapElements = options.maxAttentionMapElementsPerFrame ?? DEFAULT_MAX_ATTENTION_MAP_ELEMENTS_PER_FRAME;
	if (!Number.isInteger(maxMapElements) || maxMapElements < 1) {
		throw new FateZeroError(
			'INVALID_OPTION',
			`maxAttentionMapElementsPerFrame is ${maxMapElements}; give a whole number of map elements per frame (default ${DEFAULT_MAX_ATTENTION_MAP_ELEMENTS_PER_FRAME}), or leave it unset.`,
		);
	}
	const storagePrecision = options.storagePrecision ?? DEFAULT_STORAGE_PRECISION;
	if (storagePrecision !== 'float16' && storagePrecision !== 'float32') {
		throw new FateZeroError('INVALID_OPTION', `storagePrecision is ${JSON.stringify(storagePrecision)}; use 'float16' (default) or 'float32'.`);
	}
	const leastScChannel = options.leastScChannel ?? DEFAULT_LEAST_SC_CHANNEL;
	let plan: FusionPlan | null = null;
	const latentSize = options.sizeInPixels / 8;
	const sd = await loadStableDiffusion({
		...options,
		referenceFramesMinChannels: leastScChannel,
		unetVariant: (model) => {
			const levels = model.unet.config.blockOutChannels.length;
			const multiple = 8 * 2 ** (levels - 1);
			if (!Number.isInteger(options.sizeInPixels) || options.sizeInPixels < multiple || options.sizeInPixels % multiple !== 0) {
				throw new FateZeroError(
					'INVALID_OPTION',
					`size ${options.sizeInPixels} px does not fit this model: it must be a multiple of ${multiple} (8× VAE, ${levels} UNet levels). Try ${Math.max(multiple, Math.round(options.sizeInPixels / multiple) * multiple)}.`,
				);
			}
			plan = planFusion(model.unet.config, latentSize, latentSize, maxQueryTokens);
			return {
				attentionHook: createFusionHook(plan, mode, {maxAttentionMapElementsPerFrame: maxMapElements, storagePrecision}),
				hookKey: JSON.stringify({fusion: mode, latent: latentSize, maxQueryTokens, maxMapElements, ...(mode === 'stored' ? {storagePrecision} : {})}),
			};
		},
	});
	return {...sd, plan: plan!, attentionSource: mode, sizeInPixels: options.sizeInPixels, latentSize, maxAttentionMapElementsPerFrame: maxMapElements, storagePrecision, leastScChannel};
};
