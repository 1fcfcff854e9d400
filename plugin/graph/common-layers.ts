import type {ExecutionProviderName} from '../runtime/session-spec.js';
import {FloatAttr, OnnxType, type GraphBuilder} from './onnx-graph-builder.js';
import type {ComputeType, WeightBinder} from './weight-binder.js';

/**
 * What every layer needs: the builder, the weights, the compute precision and the execution
 * provider the graph is built for (default 'cpu'): where a provider has no kernel for an op the
 * builders use elsewhere, they emit a portable equivalent instead (see provider-kernels.ts), so no
 * node silently falls back to the CPU.
 */
export type LayerContext = {b: GraphBuilder; w: WeightBinder; computeType: ComputeType; provider?: ExecutionProviderName};

/** A float constant in the compute precision. */
export const scalar = (ctx: LayerContext, value: number): string => {
	const f32 = ctx.b.constFloat32([value], []);
	return ctx.computeType === 'float16' ? ctx.b.op('Cast', [f32], {to: OnnxType.float16}) : f32;
};

/** Graph inputs arrive as float32 (the host side only handles float32): cast into the compute type. */
export const toComputeType = (ctx: LayerContext, x: string): string =>
	ctx.computeType === 'float16' ? ctx.b.op('Cast', [x], {to: OnnxType.float16}) : x;

/** Graph outputs leave as float32 whatever the compute type (fp16 I/O is fragile across Node versions). */
export const toFloat32 = (ctx: LayerContext, x: string): string =>
	ctx.computeType === 'float16' ? ctx.b.op('Cast', [x], {to: OnnxType.float32}) : x;

/** torch.nn.Linear on the last axis: x [..., inDim] -> [..., outDim]; weight stored [out, in]. */
export const linear = (ctx: LayerContext, prefix: string, x: string, inDim: number, outDim: number, bias = true): string => {
	const {b, w} = ctx;
	const weight = w.param(`${prefix}.weight`, [outDim, inDim]);
	// FusedMatMul reads the [out, in] weight transposed in place: a Transpose + MatMul would be
	// constant-folded into a second, transposed copy of every weight at session creation. WebGPU
	// has no FusedMatMul kernel, so there the copy is the price of running on the GPU at all.
	const y =
		ctx.provider === 'webgpu'
			? b.op('MatMul', [x, b.op('Transpose', [weight], {perm: [1, 0]})])
			: b.op('FusedMatMul', [x, weight], {transB: 1}, {domain: 'com.microsoft'});
	return bias ? b.op('Add', [y, w.param(`${prefix}.bias`, [outDim])]) : y;
};

export type Conv2dOptions = {stride?: number; padding?: number; pads?: [number, number, number, number]; bias?: boolean};

/** torch.nn.Conv2d: x [N, inC, H, W] -> [N, outC, H', W']. */
export const conv2d = (
	ctx: LayerContext,
	prefix: string,
	x: string,
	inChannels: number,
	outChannels: number,
	kernel: number,
	options: Conv2dOptions = {},
): string => {
	const stride = options.stride ?? 1;
	const padding = options.padding ?? 0;
	const pads = options.pads ?? [padding, padding, padding, padding];
	const inputs = [x, ctx.w.param(`${prefix}.weight`, [outChannels, inChannels, kernel, kernel])];
	if (options.bias ?? true) inputs.push(ctx.w.param(`${prefix}.bias`, [outChannels]));
	return ctx.b.op('Conv', inputs, {kernel_shape: [kernel, kernel], strides: [stride, stride], pads}, {name: 'Conv'});
};

/** Upsample2D (UNet and VAE alike): nearest ×2 (torch's floor rule) then a 3×3 conv. x [N, C, H, W] -> [N, C, 2H, 2W]. */
export const upsample2d = (ctx: LayerContext, prefix: string, x: string, channels: number): string => {
	const {b} = ctx;
	const up = b.op('Resize', [x, '', b.constFloat32([1, 1, 2, 2])], {
		mode: 'nearest',
		coordinate_transformation_mode: 'asymmetric',
		nearest_mode: 'floor',
	});
	return conv2d(ctx, `${prefix}.conv`, up, channels, channels, 3, {padding: 1});
};

/** torch.nn.LayerNorm over the last axis. */
export const layerNorm = (ctx: LayerContext, prefix: string, x: string, dim: number, eps: number): string =>
	ctx.b.op(
		'LayerNormalization',
		[x, ctx.w.param(`${prefix}.weight`, [dim]), ctx.w.param(`${prefix}.bias`, [dim])],
		{axis: -1, epsilon: new FloatAttr(eps)},
	);

/**
 * Normalises x [N, G, X] over its last axis (one group per row), unit scale, zero shift.
 * InstanceNormalization does exactly that, but WebGPU registers no kernel for it; there
 * LayerNormalization over the last axis computes the same (biased variance, eps inside the root).
 */
const normalizeGroups = (ctx: LayerContext, x: string, groups: number, eps: number): string => {
	const {b} = ctx;
	if (ctx.provider !== 'webgpu') {
		const ones = b.constFloat32(new Array(groups).fill(1));
		const zeros = b.constFloat32(new Array(groups).fill(0));
		const [one, zero] = ctx.computeType === 'float16' ? [b.op('Cast', [ones], {to: OnnxType.float16}), b.op('Cast', [zeros], {to: OnnxType.float16})] : [ones, zeros];
		return b.op('InstanceNormalization', [x, one, zero], {epsilon: new FloatAttr(eps)});
	}
	const length = b.op('Gather', [b.op('Shape', [x]), b.constInt64([2])], {axis: 0}); // [1] = X
	const scale = b.op('Expand', [scalar(ctx, 1), length]);
	const shift = b.op('Expand', [scalar(ctx, 0), length]);
	return b.op('LayerNormalization', [x, scale, shift], {axis: -1, epsilon: new FloatAttr(eps)});
};

export type GroupNormOptions = {
	/**
	 * int64 scalar-shaped [1] value: the number of frames per clip. When set, statistics are pooled
	 * over all frames of a clip, as FateZero's inflated ResNet norms on 5-D [b, c, f, h, w] tensors do.
	 */
	framesPerClip?: string;
};

/** torch.nn.GroupNorm on x [N, C, H, W] (per sample, or pooled over the frames of each clip). */
export const groupNorm = (
	ctx: LayerContext,
	prefix: string,
	x: string,
	channels: number,
	groups: number,
	eps: number,
	options: GroupNormOptions = {},
): string => {
	const {b, w} = ctx;
	let grouped: string;
	if (options.framesPerClip) {
		// [b*f, C, H, W] -> [b*f, G, X] with X = C/G*H*W
		const flat = b.op('Reshape', [x, b.constInt64([0, groups, -1])]);
		const groupSize = b.op('Gather', [b.op('Shape', [flat]), b.constInt64([2])], {axis: 0});
		// -> [b, f, G, X] -> [b, G, f, X] -> [b, G, f*X]
		const shape4 = b.op('Concat', [b.constInt64([-1]), options.framesPerClip, b.constInt64([groups]), groupSize], {axis: 0});
		const perFrame = b.op('Reshape', [flat, shape4]);
		const byGroup = b.op('Transpose', [perFrame], {perm: [0, 2, 1, 3]});
		grouped = b.op('Reshape', [byGroup, b.constInt64([0, groups, -1])]);
		const normed = normalizeGroups(ctx, grouped, groups, eps);
		// back: [b, G, f, C/G*H*W] -> [b, f, G, C/G*H*W] -> [b*f, C, H, W]
		const back = b.op('Transpose', [b.op('Reshape', [normed, b.op('Shape', [byGroup])])], {perm: [0, 2, 1, 3]});
		grouped = b.op('Reshape', [back, b.op('Shape', [x])]);
	} else {
		// [N, C, H, W] -> [N, G, C/G*H*W]: InstanceNormalization then normalises each group.
		const normed = normalizeGroups(ctx, b.op('Reshape', [x, b.constInt64([0, groups, -1])]), groups, eps);
		grouped = b.op('Reshape', [normed, b.op('Shape', [x])]);
	}
	const gamma = b.op('Reshape', [w.param(`${prefix}.weight`, [channels]), b.constInt64([channels, 1, 1])]);
	const beta = b.op('Reshape', [w.param(`${prefix}.bias`, [channels]), b.constInt64([channels, 1, 1])]);
	return b.op('Add', [b.op('Mul', [grouped, gamma]), beta]);
};

export const silu = (ctx: LayerContext, x: string): string => ctx.b.op('Mul', [x, ctx.b.op('Sigmoid', [x])]);

/** Exact (erf) GELU, as torch.nn.functional.gelu. */
export const gelu = (ctx: LayerContext, x: string): string => {
	const {b} = ctx;
	const erf = b.op('Erf', [b.op('Mul', [x, scalar(ctx, Math.SQRT1_2)])]);
	return b.op('Mul', [b.op('Mul', [x, scalar(ctx, 0.5)]), b.op('Add', [erf, scalar(ctx, 1)])]);
};

/** CLIP's quick_gelu: x * sigmoid(1.702 x). */
export const quickGelu = (ctx: LayerContext, x: string): string =>
	ctx.b.op('Mul', [x, ctx.b.op('Sigmoid', [ctx.b.op('Mul', [x, scalar(ctx, 1.702)])])]);

/**
 * softmax(q kᵀ · scale) v with heads split out, for layers whose probabilities must stay
 * inside ORT. q [N, Sq, C], k/v [N, Sk, C] -> [N, Sq, C]. Uses com.microsoft.MultiHeadAttention
 * (no [N, heads, Sq, Sk] tensor is materialised: 10x less memory at 64² latents).
 */
export const fusedAttention = (ctx: LayerContext, q: string, k: string, v: string, heads: number, scale?: number): string =>
	ctx.b.op('MultiHeadAttention', [q, k, v], {num_heads: heads, scale: scale === undefined ? undefined : new FloatAttr(scale)}, {domain: 'com.microsoft'});

/**
 * softmax(q kᵀ / √d) per head, materialised: q [N, Sq, C], k [N, Sk, C] -> [N, heads, Sq, Sk].
 * Optional additive mask broadcast to [N, heads, Sq, Sk].
 */
export const attentionProbabilities = (ctx: LayerContext, q: string, k: string, heads: number, channels: number, mask?: string): string => {
	const {b} = ctx;
	const headDim = channels / heads;
	const split = b.constInt64([0, 0, heads, headDim]);
	// [N, S, C] -> [N, S, heads, d] -> [N, heads, S, d]; the 1/√d scale goes on q before the
	// product, so that QKᵀ itself stays in fp16 range (|q·k| can pass 65504 before scaling)
	const scaledQ = b.op('Mul', [q, scalar(ctx, 1 / Math.sqrt(headDim))]);
	const qh = b.op('Transpose', [b.op('Reshape', [scaledQ, split])], {perm: [0, 2, 1, 3]});
	// keys straight to [N, heads, d, Sk] for the product
	const kt = b.op('Transpose', [b.op('Reshape', [k, split])], {perm: [0, 2, 3, 1]});
	let scores = b.op('MatMul', [qh, kt]); // [N, heads, Sq, Sk]
	if (mask) scores = b.op('Add', [scores, mask]);
	return b.op('Softmax', [scores], {axis: -1});
};

/** probabilities [N, heads, Sq, Sk] applied to v [N, Sk, C] -> [N, Sq, C]. */
export const attendWithProbabilities = (ctx: LayerContext, probabilities: string, v: string, heads: number, channels: number): string => {
	const {b} = ctx;
	// [N, Sk, C] -> [N, Sk, heads, d] -> [N, heads, Sk, d]
	const vh = b.op('Transpose', [b.op('Reshape', [v, b.constInt64([0, 0, heads, channels / heads])])], {perm: [0, 2, 1, 3]});
	const context = b.op('MatMul', [probabilities, vh]); // [N, heads, Sq, d]
	// [N, heads, Sq, d] -> [N, Sq, heads, d] -> [N, Sq, C]
	return b.op('Reshape', [b.op('Transpose', [context], {perm: [0, 2, 1, 3]}), b.constInt64([0, 0, channels])]);
};

/**
 * The same attention as fusedAttention written out, returning the probabilities too (for layers
 * whose maps are read or edited). q [N, Sq, C], k/v [N, Sk, C] -> output [N, Sq, C].
 */
export const explicitAttention = (
	ctx: LayerContext,
	q: string,
	k: string,
	v: string,
	heads: number,
	channels: number,
	mask?: string,
): {output: string; probabilities: string} => {
	const probabilities = attentionProbabilities(ctx, q, k, heads, channels, mask);
	return {output: attendWithProbabilities(ctx, probabilities, v, heads, channels), probabilities};
};
