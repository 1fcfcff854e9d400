import {conv2d, explicitAttention, fusedAttention, groupNorm, silu, upsample2d, type LayerContext} from './common-layers.js';

/** Every norm of diffusers' VAE Encoder/Decoder (resnets, attention, conv_norm_out) uses eps 1e-6. */
export const VAE_NORM_EPS = 1e-6;

export type VaeGraphOptions = {
	/**
	 * How the mid-block attention is computed. 'fused' (default) is com.microsoft.MultiHeadAttention:
	 * at 512² the mid block has 4096 tokens and the explicit [N, 1, 4096, 4096] map would cost
	 * 64 MiB per frame. 'explicit' exists to check the two against each other, and is the default
	 * for CUDA graphs: the single head is 512 wide, past what CUDA's fused attention kernels are
	 * safe with on every GPU (onnxruntime issues 28388, 28195: shared-memory limits above 256, NaN in
	 * the unfused fp16 runner); cuBLAS MatMuls and Softmax take any width, at 32 MiB per frame in fp16.
	 */
	attention?: 'fused' | 'explicit';
};

/** ResnetBlock2D without time embedding: x [N, inC, H, W] -> [N, outC, H, W]. */
export const vaeResnetBlock = (ctx: LayerContext, prefix: string, x: string, inChannels: number, outChannels: number, groups: number): string =>
	ctx.b.scope(prefix, () => {
		let h = groupNorm(ctx, `${prefix}.norm1`, x, inChannels, groups, VAE_NORM_EPS);
		h = conv2d(ctx, `${prefix}.conv1`, silu(ctx, h), inChannels, outChannels, 3, {padding: 1});
		h = groupNorm(ctx, `${prefix}.norm2`, h, outChannels, groups, VAE_NORM_EPS);
		h = conv2d(ctx, `${prefix}.conv2`, silu(ctx, h), outChannels, outChannels, 3, {padding: 1});
		const shortcut = inChannels === outChannels ? x : conv2d(ctx, `${prefix}.conv_shortcut`, x, inChannels, outChannels, 1);
		return ctx.b.op('Add', [shortcut, h]);
	});

/**
 * A linear projection of the VAE attention, which checkpoints store under two names: diffusers
 * ≥ 0.14 `to_q/to_k/to_v/to_out.0`, older saves `query/key/value/proj_attn` (the binder also
 * accepts their [C, C, 1, 1] conv-shaped form). The newer name is requested first.
 */
const attentionProjection = (ctx: LayerContext, prefix: string, name: string, oldName: string, x: string, channels: number): string => {
	const {b, w} = ctx;
	const weight = w.param([`${prefix}.${name}.weight`, `${prefix}.${oldName}.weight`], [channels, channels]);
	const bias = w.param([`${prefix}.${name}.bias`, `${prefix}.${oldName}.bias`], [channels]);
	// Transpose of an initializer is constant-folded at session creation.
	const projected = b.op('MatMul', [x, b.op('Transpose', [weight], {perm: [1, 0]})]);
	return b.op('Add', [projected, bias]);
};

/**
 * diffusers 0.11 AttentionBlock (single head, as the VAE builds it with num_head_channels=None):
 * GroupNorm, q/k/v over the H·W tokens, softmax(q kᵀ / √C) v, proj_attn, residual.
 * x [N, C, H, W] -> [N, C, H, W]. `group_norm` keeps its name under both weight namings.
 */
export const vaeAttentionBlock = (ctx: LayerContext, prefix: string, x: string, channels: number, groups: number, options: VaeGraphOptions): string =>
	ctx.b.scope(prefix, () => {
		const {b} = ctx;
		const normed = groupNorm(ctx, `${prefix}.group_norm`, x, channels, groups, VAE_NORM_EPS);
		// [N, C, H, W] -> [N, C, H·W] -> [N, H·W, C]
		const tokens = b.op('Transpose', [b.op('Reshape', [normed, b.constInt64([0, channels, -1])])], {perm: [0, 2, 1]});
		const q = attentionProjection(ctx, prefix, 'to_q', 'query', tokens, channels); // [N, H·W, C]
		const k = attentionProjection(ctx, prefix, 'to_k', 'key', tokens, channels);
		const v = attentionProjection(ctx, prefix, 'to_v', 'value', tokens, channels);
		// One head, so the default scale 1/√head_dim is diffusers' 1/√C.
		const attended =
			(options.attention ?? (ctx.provider === 'cuda' ? 'explicit' : 'fused')) === 'explicit'
				? explicitAttention(ctx, q, k, v, 1, channels).output
				: fusedAttention(ctx, q, k, v, 1); // [N, H·W, C]
		const projected = attentionProjection(ctx, prefix, 'to_out.0', 'proj_attn', attended, channels); // [N, H·W, C]
		// [N, H·W, C] -> [N, C, H·W] -> [N, C, H, W]
		const image = b.op('Reshape', [b.op('Transpose', [projected], {perm: [0, 2, 1]}), b.op('Shape', [x])]);
		// rescale_output_factor is 1 in the VAE: plain residual.
		return b.op('Add', [image, x]);
	});

/** UNetMidBlock2D as the VAE uses it: resnet, attention, resnet at constant channels. */
export const vaeMidBlock = (ctx: LayerContext, prefix: string, x: string, channels: number, groups: number, options: VaeGraphOptions): string => {
	let h = vaeResnetBlock(ctx, `${prefix}.resnets.0`, x, channels, channels, groups);
	h = vaeAttentionBlock(ctx, `${prefix}.attentions.0`, h, channels, groups, options);
	return vaeResnetBlock(ctx, `${prefix}.resnets.1`, h, channels, channels, groups);
};

/**
 * Downsample2D(use_conv, padding=0): torch pads (0, 1, 0, 1), i.e. one zero row at the bottom and
 * one zero column on the right, then a stride-2 3×3 conv. The Conv's own asymmetric pads do the same.
 * x [N, C, H, W] -> [N, C, H/2, W/2].
 */
export const vaeDownsample = (ctx: LayerContext, prefix: string, x: string, channels: number): string =>
	ctx.b.scope(prefix, () => conv2d(ctx, `${prefix}.conv`, x, channels, channels, 3, {stride: 2, pads: [0, 0, 1, 1]}));

/** Upsample2D: nearest ×2 (torch's floor rule) then a 3×3 conv. x [N, C, H, W] -> [N, C, 2H, 2W]. */
export const vaeUpsample = (ctx: LayerContext, prefix: string, x: string, channels: number): string => ctx.b.scope(prefix, () => upsample2d(ctx, prefix, x, channels));
