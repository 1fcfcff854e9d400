import type {UnetConfig} from '../model/component-configs.js';
import type {AttentionHook} from './attention-hook.js';
import {conv2d, groupNorm, linear, silu, toComputeType, toFloat32, upsample2d, type LayerContext} from './common-layers.js';
import {downsample, resnetBlock, transformer, type UnetBuildState} from './unet-blocks.js';

export type UnetGraphOptions = {
	/**
	 * Self-attention in transformers with at least this many channels reads its keys/values from
	 * the reference frames given at run time (FateZero's `least_sc_channel`); the others attend
	 * within their own frame. null: no layer reads reference frames (plain SD per frame).
	 */
	referenceFramesMinChannels: number | null;
	/** Per-attention-layer port for FateZero's fusion (see attention-hook.ts). */
	attentionHook?: AttentionHook | null;
};

/** Graph input and output names of the UNet. */
export const UNET_IO = {
	sample: 'sample',
	timestep: 'timestep',
	encoderHiddenStates: 'encoder_hidden_states',
	referenceFrames: 'reference_frames',
	noisePred: 'noise_pred',
} as const;

/**
 * diffusers' sinusoidal timestep embedding (get_timestep_embedding), frequencies rounded to
 * float32 step by step as torch computes them in float32.
 */
export const timestepFrequencies = (dim: number, freqShift: number): Float32Array => {
	const half = Math.floor(dim / 2);
	const logBase = Math.fround(-Math.log(10000));
	return Float32Array.from({length: half}, (_, i) => Math.fround(Math.exp(Math.fround(Math.fround(logBase * i) / (half - freqShift)))));
};

/**
 * UNet2DConditionModel of SD-1.x as FateZero runs it on a clip. Inputs:
 * - `sample` [N, 4, h, w]: N = clips × F frames, clip-major;
 * - `timestep` [1] or [N] (float);
 * - `encoder_hidden_states` [N, 77, D];
 * - `reference_frames` int64 [R, F]: F is the frame count per clip (ResNet norms pool over
 *   it); row r gives, for each frame, the frame whose keys/values the r-th reference uses.
 * Output `noise_pred` [N − D, 4, h, w], where D is the leading rows the attention hook lets go
 * (see AttentionHook.leadingRowsToDrop; 0 without a hook).
 */
export const buildUnetGraph = (ctx: LayerContext, config: UnetConfig, options: UnetGraphOptions): void => {
	const {b} = ctx;
	const toCompute = (x: string) => toComputeType(ctx, x);

	// 1. inputs (float32 at the boundary; cast inside for fp16 graphs)
	const sample = toCompute(b.input(UNET_IO.sample, 'float32', ['batch', config.inChannels, 'height', 'width']));
	const timestep = b.input(UNET_IO.timestep, 'float32', ['timesteps']);
	const encoderHiddenStates = toCompute(
		b.input(UNET_IO.encoderHiddenStates, 'float32', ['batch', 'tokens', config.crossAttentionDim]),
	);
	const referenceFrames = b.input(UNET_IO.referenceFrames, 'int64', ['references', 'frames']);
	const framesPerClip = b.op('Gather', [b.op('Shape', [referenceFrames]), b.constInt64([1])], {axis: 0});

	// 2. time embedding: sinusoid [T, C0] -> MLP -> [T, 4·C0]
	const baseChannels = config.blockOutChannels[0];
	const timeEmbedDim = baseChannels * 4;
	const timeEmbedding = b.scope('time_embedding', () => {
		const frequencies = b.constFloat32(timestepFrequencies(baseChannels, config.freqShift), [1, baseChannels / 2]);
		// [T, 1] · [1, C0/2] -> [T, C0/2]
		const angles = b.op('Mul', [b.op('Unsqueeze', [timestep, b.constInt64([1])]), frequencies]);
		const [first, second] = config.flipSinToCos ? ['Cos', 'Sin'] : ['Sin', 'Cos'];
		const sinusoid = toCompute(b.op('Concat', [b.op(first, [angles]), b.op(second, [angles])], {axis: 1}));
		const hidden = linear(ctx, 'time_embedding.linear_1', sinusoid, baseChannels, timeEmbedDim);
		return linear(ctx, 'time_embedding.linear_2', silu(ctx, hidden), timeEmbedDim, timeEmbedDim);
	});

	const s: UnetBuildState = {
		...ctx,
		config,
		framesPerClip,
		referenceFrames,
		timeEmbedding,
		encoderHiddenStates,
		referenceFramesMinChannels: options.referenceFramesMinChannels,
		attentionHook: options.attentionHook ?? null,
	};
	const levels = config.blockOutChannels.length;

	// 3. down path, keeping every intermediate output for the skip connections
	let h = conv2d(s, 'conv_in', sample, config.inChannels, baseChannels, 3, {padding: 1});
	const skips: {value: string; channels: number}[] = [{value: h, channels: baseChannels}];
	let channels = baseChannels;
	config.downBlockTypes.forEach((type, i) => {
		const outChannels = config.blockOutChannels[i];
		for (let j = 0; j < config.layersPerBlock; j++) {
			h = resnetBlock(s, `down_blocks.${i}.resnets.${j}`, h, j === 0 ? channels : outChannels, outChannels);
			if (type === 'CrossAttnDownBlock2D') {
				h = transformer(s, `down_blocks.${i}.attentions.${j}`, h, outChannels, config.attentionHeads[i], {placeInUnet: 'down', level: i});
			}
			skips.push({value: h, channels: outChannels});
		}
		channels = outChannels;
		if (i < levels - 1) {
			h = downsample(s, `down_blocks.${i}.downsamplers.0`, h, outChannels);
			skips.push({value: h, channels: outChannels});
		}
	});

	// 4. mid block: resnet, transformer, resnet at the lowest resolution
	const midHeads = config.attentionHeads[config.attentionHeads.length - 1];
	h = resnetBlock(s, 'mid_block.resnets.0', h, channels, channels);
	h = transformer(s, 'mid_block.attentions.0', h, channels, midHeads, {placeInUnet: 'mid', level: levels - 1});
	h = resnetBlock(s, 'mid_block.resnets.1', h, channels, channels);

	// 5. up path: each resnet takes [h ⊕ skip] along channels
	const reversedChannels = [...config.blockOutChannels].reverse();
	const reversedHeads = [...config.attentionHeads].reverse();
	config.upBlockTypes.forEach((type, i) => {
		const drop = s.attentionHook?.leadingRowsToDrop?.(s, {index: i}) ?? null;
		if (drop !== null) {
			const end = b.constInt64([2 ** 31 - 1]);
			const zero = b.constInt64([0]);
			const fromRow = (x: string, start: string) => b.op('Slice', [x, start, end, zero]);
			h = fromRow(h, drop);
			for (const skip of skips) skip.value = fromRow(skip.value, drop);
			s.encoderHiddenStates = fromRow(s.encoderHiddenStates, drop);
			// the time embedding has 1 row (shared) or one per batch row: drop rows only in the latter case
			const timeRows = b.op('Gather', [b.op('Shape', [s.timeEmbedding]), b.constInt64([0])], {axis: 0});
			s.timeEmbedding = fromRow(s.timeEmbedding, b.op('Min', [drop, b.op('Sub', [timeRows, b.constInt64([1])])]));
		}
		const outChannels = reversedChannels[i];
		for (let j = 0; j <= config.layersPerBlock; j++) {
			const skip = skips.pop()!;
			// [N, C, H, W] ⊕ [N, Cskip, H, W] -> [N, C + Cskip, H, W]
			h = b.op('Concat', [h, skip.value], {axis: 1});
			h = resnetBlock(s, `up_blocks.${i}.resnets.${j}`, h, channels + skip.channels, outChannels);
			channels = outChannels;
			if (type === 'CrossAttnUpBlock2D') {
				h = transformer(s, `up_blocks.${i}.attentions.${j}`, h, outChannels, reversedHeads[i], {
					placeInUnet: 'up',
					level: levels - 1 - i,
				});
			}
		}
		if (i < levels - 1) h = upsample2d(s, `up_blocks.${i}.upsamplers.0`, h, outChannels);
	});

	// 6. output: pooled GroupNorm (FateZero's conv_norm_out runs on 5-D tensors), SiLU, conv
	h = groupNorm(s, 'conv_norm_out', h, channels, config.normNumGroups, config.normEps, {framesPerClip});
	h = conv2d(s, 'conv_out', silu(s, h), channels, config.outChannels, 3, {padding: 1});
	s.attentionHook?.finish?.(s);
	b.output(UNET_IO.noisePred, toFloat32(ctx, h), 'float32', ['batch', config.outChannels, 'height', 'width']);
};
