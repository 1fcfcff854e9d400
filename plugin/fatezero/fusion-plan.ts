import {ENGINE_DEFAULTS} from '../clip/engine-defaults.js';
import {FateZeroError} from '../errors/fatezero-error.js';
import type {AttentionSite} from '../graph/attention-hook.js';
import type {LayerContext} from '../graph/common-layers.js';
import {GraphBuilder} from '../graph/onnx-graph-builder.js';
import {buildUnetGraph} from '../graph/unet-graph.js';
import {WeightBinder} from '../graph/weight-binder.js';
import type {UnetConfig} from '../model/component-configs.js';

/** FateZero stores and fuses only layers with at most this many query tokens (`attn.shape[-2] <= 32**2`). */
export const OFFICIAL_FUSION_MAX_QUERY_TOKENS = ENGINE_DEFAULTS.fusionMaxQueryTokens;

export type AttentionLayer = Pick<AttentionSite, 'path' | 'kind' | 'placeInUnet' | 'level' | 'channels' | 'heads'> & {
	/** Query tokens per frame at this layer: (h / 2^level)·(w / 2^level). */
	queryTokens: number;
	/** Side length of the layer's square token grid (for the blend mask). */
	height: number;
	width: number;
};

export type FusionPlan = {
	/** Every attention layer in forward order. */
	layers: AttentionLayer[];
	/** Layers whose attention is stored at inversion and fused while editing (Q ≤ threshold). */
	fused: AttentionLayer[];
	/** Cross-attention layers whose source maps make the blend mask; all of one resolution. */
	maskLayers: AttentionLayer[];
	/** How maskLayers were chosen: the official list indices, or the documented fallback. */
	maskRule: 'official' | 'by-level';
	maskHeight: number;
	maskWidth: number;
	/** Width of the text states the cross-attention keys are projected from. */
	crossAttentionDim: number;
};

/** The UNet's attention layers in forward order (built once in memory, no weights needed). */
export const listAttentionLayers = (config: UnetConfig, latentHeight: number, latentWidth: number): AttentionLayer[] => {
	const sites: AttentionLayer[] = [];
	const b = new GraphBuilder('sites');
	const ctx: LayerContext = {b, w: new WeightBinder(b, null, 'float32'), computeType: 'float32'};
	buildUnetGraph(ctx, config, {
		referenceFramesMinChannels: null,
		attentionHook: {
			attend: (_ctx, site) => {
				const height = Math.ceil(latentHeight / 2 ** site.level);
				const width = Math.ceil(latentWidth / 2 ** site.level);
				const {path, kind, placeInUnet, level, channels, heads} = site;
				sites.push({path, kind, placeInUnet, level, channels, heads, queryTokens: height * width, height, width});
				return null;
			},
		},
	});
	return sites;
};

/**
 * Which layers FateZero fuses and which make its blend mask (fatezero-spec §1.4, §2.5).
 * The official mask reads `store["down_cross"][2:4] + store["up_cross"][:3]`: list indices over
 * the *stored* layers, which at SD-1.x 512² are the five 16² cross layers. We use exactly that
 * wherever it is well defined (non-empty, one resolution) — every golden case. Elsewhere (e.g. 256²
 * input, where the official code concatenates 16² and 8² maps and crashes, or a UNet with other
 * levels) the documented fallback takes the cross layers of the level at a quarter of the latent
 * resolution (where the official selection lands at 512²), or the lowest-resolution level with
 * cross-attention when that level has none.
 */
export const planFusion = (
	config: UnetConfig,
	latentHeight: number,
	latentWidth: number,
	maxQueryTokens: number = OFFICIAL_FUSION_MAX_QUERY_TOKENS,
): FusionPlan => {
	const layers = listAttentionLayers(config, latentHeight, latentWidth);
	const fused = layers.filter((layer) => layer.queryTokens <= maxQueryTokens);
	const stored = (place: AttentionLayer['placeInUnet']) => fused.filter((l) => l.kind === 'cross' && l.placeInUnet === place);
	let maskLayers = [...stored('down').slice(2, 4), ...stored('up').slice(0, 3)];
	let maskRule: FusionPlan['maskRule'] = 'official';
	const resolutions = new Set(maskLayers.map((l) => l.queryTokens));
	if (maskLayers.length === 0 || resolutions.size > 1) {
		maskRule = 'by-level';
		const crossLevels = [...new Set(layers.filter((l) => l.kind === 'cross').map((l) => l.level))];
		const quarter = crossLevels.includes(2) ? 2 : Math.max(...crossLevels);
		maskLayers = layers.filter((l) => l.kind === 'cross' && l.level === quarter);
	}
	if (maskLayers.length === 0) {
		throw new FateZeroError('MODEL_UNSUPPORTED', 'This UNet has no cross-attention layers, so FateZero has no attention to edit. Use a Stable Diffusion 1.x UNet.');
	}
	return {layers, fused, maskLayers, maskRule, maskHeight: maskLayers[0].height, maskWidth: maskLayers[0].width, crossAttentionDim: config.crossAttentionDim};
};
