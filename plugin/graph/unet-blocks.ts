import type {UnetConfig} from '../model/component-configs.js';
import type {AttentionHook, AttentionSite} from './attention-hook.js';
import {conv2d, fusedAttention, gelu, groupNorm, layerNorm, linear, silu, type LayerContext} from './common-layers.js';

/**
 * Building blocks of diffusers' UNet2DConditionModel as FateZero inflates it
 * (UNetPseudo3DConditionModel): ResNet GroupNorms pool their statistics over the frames of a
 * clip, self-attention may read keys/values from reference frames, and the zero-shot temporal
 * layers are exact identities, so they are not built (fatezero-spec §3.3).
 */
export type UnetBuildState = LayerContext & {
	config: UnetConfig;
	/** int64 [1]: frames per clip (the column count of `reference_frames`). */
	framesPerClip: string;
	/** int64 [R, F]: for each reference r and frame f, the frame whose keys/values are used. */
	referenceFrames: string;
	/** [T, temb] time embedding after the MLP (T = 1 or N). */
	timeEmbedding: string;
	/** [N, 77, D] text states. */
	encoderHiddenStates: string;
	/** Self-attention in transformers with at least this many channels reads reference frames; null: never. */
	referenceFramesMinChannels: number | null;
	attentionHook: AttentionHook | null;
};

/** ResnetBlock2D / FateZero ResnetBlockPseudo3D: x [N, inC, H, W] -> [N, outC, H, W]. */
export const resnetBlock = (s: UnetBuildState, prefix: string, x: string, inChannels: number, outChannels: number): string =>
	s.b.scope(prefix, () => {
		const {b, config} = s;
		const pooled = {framesPerClip: s.framesPerClip};
		let h = groupNorm(s, `${prefix}.norm1`, x, inChannels, config.normNumGroups, config.normEps, pooled);
		h = conv2d(s, `${prefix}.conv1`, silu(s, h), inChannels, outChannels, 3, {padding: 1});
		const temb = linear(s, `${prefix}.time_emb_proj`, silu(s, s.timeEmbedding), config.blockOutChannels[0] * 4, outChannels);
		// [T, C] -> [T, C, 1, 1], broadcast over the spatial dims (and over N when T = 1)
		h = b.op('Add', [h, b.op('Unsqueeze', [temb, b.constInt64([2, 3])])]);
		h = groupNorm(s, `${prefix}.norm2`, h, outChannels, config.normNumGroups, config.normEps, pooled);
		h = conv2d(s, `${prefix}.conv2`, silu(s, h), outChannels, outChannels, 3, {padding: 1});
		const shortcut = inChannels === outChannels ? x : conv2d(s, `${prefix}.conv_shortcut`, x, inChannels, outChannels, 1);
		return b.op('Add', [shortcut, h]);
	});

/**
 * FateZero's sparse-causal keys/values (spec §3.1): for frame f, the keys of its reference frames
 * refs[0][f], refs[1][f], … concatenated along tokens in that order.
 */
const gatherReferenceFrames = (s: UnetBuildState, x: string, channels: number): string => {
	const {b} = s;
	const tokens = b.op('Gather', [b.op('Shape', [x]), b.constInt64([1])], {axis: 0});
	// [N, S, C] -> [B, F, S, C]
	const perClip = b.op('Reshape', [x, b.op('Concat', [b.constInt64([-1]), s.framesPerClip, tokens, b.constInt64([channels])], {axis: 0})]);
	// gather frames with refs [R, F]: [B, R, F, S, C] -> [B, F, R, S, C]
	const gathered = b.op('Transpose', [b.op('Gather', [perClip, s.referenceFrames], {axis: 1})], {perm: [0, 2, 1, 3, 4]});
	// -> [B, F, R·S, C] -> [N, R·S, C]
	const merged = b.op('Reshape', [gathered, b.constInt64([0, 0, -1, channels])]);
	const keyTokens = b.op('Gather', [b.op('Shape', [merged]), b.constInt64([2])], {axis: 0});
	return b.op('Reshape', [merged, b.op('Concat', [b.constInt64([-1]), keyTokens, b.constInt64([channels])], {axis: 0})]);
};

type AttentionPlace = Pick<AttentionSite, 'placeInUnet' | 'level'>;

/** diffusers CrossAttention (attn1 / attn2): x [N, S, C] -> [N, S, C]. */
const attention = (
	s: UnetBuildState,
	path: string,
	x: string,
	channels: number,
	heads: number,
	kind: 'self' | 'cross',
	place: AttentionPlace,
): string => {
	const contextDim = kind === 'cross' ? s.config.crossAttentionDim : channels;
	const context = kind === 'cross' ? s.encoderHiddenStates : x;
	const usesReferenceFrames = kind === 'self' && s.referenceFramesMinChannels !== null && channels >= s.referenceFramesMinChannels;
	const query = linear(s, `${path}.to_q`, x, channels, channels, false);
	let key = linear(s, `${path}.to_k`, context, contextDim, channels, false);
	let value = linear(s, `${path}.to_v`, context, contextDim, channels, false);
	if (usesReferenceFrames) {
		key = gatherReferenceFrames(s, key, channels);
		value = gatherReferenceFrames(s, value, channels);
	}
	const site: AttentionSite = {path, kind, ...place, channels, heads, usesReferenceFrames, query, key, value};
	const hooked = s.attentionHook?.attend(s, site) ?? null;
	const output = hooked ?? fusedAttention(s, query, key, value, heads);
	return linear(s, `${path}.to_out.0`, output, channels, channels);
};

/** Transformer2DModel with one BasicTransformerBlock: x [N, C, H, W] -> [N, C, H, W]. */
export const transformer = (s: UnetBuildState, prefix: string, x: string, channels: number, heads: number, place: AttentionPlace): string =>
	s.b.scope(prefix, () => {
		const {b, config} = s;
		// The transformer's own GroupNorm is per frame (it runs on 4-D tensors in FateZero too).
		let h = groupNorm(s, `${prefix}.norm`, x, channels, config.normNumGroups, 1e-6);
		const spatial = b.op('Shape', [x]);
		const toTokens = (t: string) =>
			// [N, C, H, W] -> [N, C, H·W] -> [N, H·W, C]
			b.op('Transpose', [b.op('Reshape', [t, b.constInt64([0, channels, -1])])], {perm: [0, 2, 1]});
		if (config.useLinearProjection) {
			h = linear(s, `${prefix}.proj_in`, toTokens(h), channels, channels);
		} else {
			h = toTokens(conv2d(s, `${prefix}.proj_in`, h, channels, channels, 1));
		}
		const block = `${prefix}.transformer_blocks.0`;
		// [N, H·W, C] through self-attention, cross-attention and the GEGLU feed-forward, each residual
		h = b.op('Add', [attention(s, `${block}.attn1`, layerNorm(s, `${block}.norm1`, h, channels, 1e-5), channels, heads, 'self', place), h]);
		h = b.op('Add', [attention(s, `${block}.attn2`, layerNorm(s, `${block}.norm2`, h, channels, 1e-5), channels, heads, 'cross', place), h]);
		h = b.op('Add', [feedForward(s, `${block}.ff`, layerNorm(s, `${block}.norm3`, h, channels, 1e-5), channels, place.level), h]);
		// [N, H·W, C] -> [N, C, H·W] -> [N, C, H, W]
		const toImage = (t: string) => b.op('Reshape', [b.op('Transpose', [t], {perm: [0, 2, 1]}), spatial]);
		h = config.useLinearProjection
			? toImage(linear(s, `${prefix}.proj_out`, h, channels, channels))
			: conv2d(s, `${prefix}.proj_out`, toImage(h), channels, channels, 1);
		return b.op('Add', [h, x]);
	});

/**
 * How many token slices the feed-forward runs in at each resolution level. Its GEGLU projection is
 * 8 channels per channel: at 64² latents that is [N, 4096, 2560] (1 GB for 24 frames, plus the two
 * halves), the largest activation of the UNet. Slicing tokens is exact (each token is independent)
 * and brings every level down to about the size of level 2.
 */
const feedForwardSlices = (level: number): number => 2 ** Math.max(0, 2 - level);

/** FeedForward with GEGLU: Linear(C, 8C) -> split -> a · gelu(gate) -> Linear(4C, C). x [N, S, C]. */
const feedForward = (s: UnetBuildState, prefix: string, x: string, channels: number, level: number): string => {
	const inner = channels * 4;
	const geglu = (tokens: string) => {
		const projected = linear(s, `${prefix}.net.0.proj`, tokens, channels, inner * 2);
		const [a, gate] = s.b.opMulti('Split', [projected, s.b.constInt64([inner, inner])], {axis: -1}, {outputs: 2});
		return linear(s, `${prefix}.net.2`, s.b.op('Mul', [a, gelu(s, gate)]), inner, channels);
	};
	const slices = feedForwardSlices(level);
	if (slices === 1) return geglu(x);
	// [N, S, C] -> slices of [N, ⌈S/k⌉, C] (the last one may be shorter, or empty for tiny latents)
	const {b} = s;
	const tokens = b.op('Gather', [b.op('Shape', [x]), b.constInt64([1])], {axis: 0});
	const perSlice = b.op('Div', [b.op('Add', [tokens, b.constInt64([slices - 1])]), b.constInt64([slices])]);
	const outputs = Array.from({length: slices}, (_, i) => {
		const start = b.op('Mul', [perSlice, b.constInt64([i])]);
		const end = b.op('Mul', [perSlice, b.constInt64([i + 1])]);
		return geglu(b.op('Slice', [x, start, end, b.constInt64([1])]));
	});
	return b.op('Concat', outputs, {axis: 1}); // [N, S, C]
};

/** Downsample2D with a conv: stride 2, symmetric padding `downsample_padding`. */
export const downsample = (s: UnetBuildState, prefix: string, x: string, channels: number): string =>
	conv2d(s, `${prefix}.conv`, x, channels, channels, 3, {stride: 2, padding: s.config.downsamplePadding});

