import type {UnetConfig} from '../../plugin/model/component-configs.js';

/** FLOPs of one UNet frame-call, split by the kind of work (2 FLOPs per multiply-accumulate). */
export type UnetFlops = {
	/** Every Conv: conv_in/out, ResNet convs and shortcuts, down/upsamplers, 1×1 proj_in/out. */
	conv: number;
	/** Every MatMul against a weight: q/k/v/out projections, GEGLU feed-forward, time embedding, linear proj_in/out. */
	linear: number;
	/** The attention cores: q·kᵀ and p·v of self- and cross-attention. */
	attention: number;
	total: number;
};

export type UnetFlopsOptions = {
	/** Latent height and width (pixels / 8). */
	height: number;
	width: number;
	/** Text tokens the cross-attention reads (CLIP: 77). */
	contextTokens?: number;
};

/**
 * Analytic FLOP count of the SD-1.x UNet as unet-graph.ts builds it with
 * `referenceFramesMinChannels: null` (each frame attends to itself), for ONE frame. It walks the
 * same block structure as the builder, from the same typed config, so it follows any config
 * (SD-1.4/1.5, the tiny test model). Norms, activations, residual adds, softmax, resize and
 * concat are left out: they are memory-bound and a few percent of the work at most, and the
 * budget compares against a MatMul's rate, which counts only multiply-accumulates too.
 */
export const countUnetFlops = (config: UnetConfig, options: UnetFlopsOptions): UnetFlops => {
	const contextTokens = options.contextTokens ?? 77;
	const flops: UnetFlops = {conv: 0, linear: 0, attention: 0, total: 0};
	let h = options.height;
	let w = options.width;

	// Out size from torch's rule; the MACs are k²·Cin·Cout per output pixel.
	const conv = (inC: number, outC: number, kernel: number, stride = 1, padding = 0) => {
		const outH = Math.floor((h + 2 * padding - kernel) / stride) + 1;
		const outW = Math.floor((w + 2 * padding - kernel) / stride) + 1;
		flops.conv += 2 * kernel * kernel * inC * outC * outH * outW;
		return {outH, outW};
	};
	const linear = (tokens: number, inDim: number, outDim: number) => {
		flops.linear += 2 * tokens * inDim * outDim;
	};
	const baseChannels = config.blockOutChannels[0];
	const timeEmbedDim = baseChannels * 4;

	const resnet = (inC: number, outC: number) => {
		conv(inC, outC, 3, 1, 1);
		linear(1, timeEmbedDim, outC); // time_emb_proj
		conv(outC, outC, 3, 1, 1);
		if (inC !== outC) conv(inC, outC, 1);
	};
	const transformer = (c: number) => {
		const s = h * w;
		const proj = () => (config.useLinearProjection ? linear(s, c, c) : conv(c, c, 1));
		proj(); // proj_in
		// attn1: q, k, v, out over the frame's own tokens; core q·kᵀ and p·v, each 2·S·S·C
		linear(s, c, c);
		linear(s, c, c);
		linear(s, c, c);
		linear(s, c, c);
		flops.attention += 2 * (2 * s * s * c);
		// attn2: q and out over image tokens, k and v from the 77 text states
		linear(s, c, c);
		linear(contextTokens, config.crossAttentionDim, c);
		linear(contextTokens, config.crossAttentionDim, c);
		linear(s, c, c);
		flops.attention += 2 * (2 * s * contextTokens * c);
		// GEGLU feed-forward: C -> 8C, then 4C -> C
		linear(s, c, 8 * c);
		linear(s, 4 * c, c);
		proj(); // proj_out
	};

	// time embedding MLP (one row per call)
	linear(1, baseChannels, timeEmbedDim);
	linear(1, timeEmbedDim, timeEmbedDim);

	conv(config.inChannels, baseChannels, 3, 1, 1);
	const levels = config.blockOutChannels.length;
	const skips: number[] = [baseChannels];
	const skipSizes: [number, number][] = [[h, w]];
	let channels = baseChannels;
	config.downBlockTypes.forEach((type, i) => {
		const outC = config.blockOutChannels[i];
		for (let j = 0; j < config.layersPerBlock; j++) {
			resnet(j === 0 ? channels : outC, outC);
			if (type === 'CrossAttnDownBlock2D') transformer(outC);
			skips.push(outC);
			skipSizes.push([h, w]);
		}
		channels = outC;
		if (i < levels - 1) {
			const {outH, outW} = conv(outC, outC, 3, 2, config.downsamplePadding);
			[h, w] = [outH, outW];
			skips.push(outC);
			skipSizes.push([h, w]);
		}
	});

	resnet(channels, channels);
	transformer(channels);
	resnet(channels, channels);

	const reversed = [...config.blockOutChannels].reverse();
	config.upBlockTypes.forEach((type, i) => {
		const outC = reversed[i];
		for (let j = 0; j <= config.layersPerBlock; j++) {
			const skip = skips.pop()!;
			[h, w] = skipSizes.pop()!;
			resnet(channels + skip, outC);
			channels = outC;
			if (type === 'CrossAttnUpBlock2D') transformer(outC);
		}
		if (i < levels - 1) {
			// nearest ×2, then a 3×3 conv at the doubled size (the next skip has that size)
			[h, w] = [h * 2, w * 2];
			conv(outC, outC, 3, 1, 1);
		}
	});

	conv(channels, config.outChannels, 3, 1, 1);
	flops.total = flops.conv + flops.linear + flops.attention;
	return flops;
};
