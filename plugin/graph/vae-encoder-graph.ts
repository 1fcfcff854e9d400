import type {VaeConfig} from '../model/component-configs.js';
import {conv2d, toComputeType, toFloat32, groupNorm, scalar, silu, type LayerContext} from './common-layers.js';
import {
	VAE_NORM_EPS,
	vaeDownsample,
	vaeMidBlock,
	vaeResnetBlock,
	type VaeGraphOptions,
} from './vae-blocks.js';

// DiagonalGaussianDistribution clamps logvar to this range before anything uses it.
const LOGVAR_MIN = -30;
const LOGVAR_MAX = 20;

/**
 * diffusers 0.11 AutoencoderKL.encode up to the posterior's parameters (encoder + quant_conv):
 * `sample` float32 [N, 3, H, W] in [-1, 1] -> `mean` and `logvar` float32 [N, latent, H/8, W/8]
 * (for 4 blocks; logvar clamped to [-30, 20]). The latent is not scaled (no 0.18215 here).
 */
export const buildVaeEncoderGraph = (ctx: LayerContext, config: VaeConfig, options: VaeGraphOptions = {}): void => {
	const {b} = ctx;
	const channels = config.blockOutChannels;
	const groups = config.normNumGroups;
	const latent = config.latentChannels;
	const sample = b.input('sample', 'float32', ['batch', config.inChannels, 'height', 'width']);

	let h = conv2d(ctx, 'encoder.conv_in', toComputeType(ctx, sample), config.inChannels, channels[0], 3, {padding: 1});
	let current = channels[0];
	channels.forEach((out, block) => {
		const prefix = `encoder.down_blocks.${block}`;
		for (let layer = 0; layer < config.layersPerBlock; layer++) {
			h = vaeResnetBlock(ctx, `${prefix}.resnets.${layer}`, h, layer === 0 ? current : out, out, groups);
		}
		current = out;
		if (block < channels.length - 1) h = vaeDownsample(ctx, `${prefix}.downsamplers.0`, h, out);
	});
	h = vaeMidBlock(ctx, 'encoder.mid_block', h, current, groups, options);
	h = groupNorm(ctx, 'encoder.conv_norm_out', h, current, groups, VAE_NORM_EPS);
	// double_z: the encoder emits mean and logvar stacked on the channel axis.
	h = conv2d(ctx, 'encoder.conv_out', silu(ctx, h), current, 2 * latent, 3, {padding: 1});
	const moments = conv2d(ctx, 'quant_conv', h, 2 * latent, 2 * latent, 1); // [N, 2·latent, h, w]

	const [mean, logvar] = b.opMulti('Split', [moments, b.constInt64([latent, latent])], {axis: 1}, {outputs: 2});
	const clamped = b.op('Clip', [logvar, scalar(ctx, LOGVAR_MIN), scalar(ctx, LOGVAR_MAX)]);
	const dims = ['batch', latent, 'latent_height', 'latent_width'];
	b.output('mean', toFloat32(ctx, mean), 'float32', dims);
	b.output('logvar', toFloat32(ctx, clamped), 'float32', dims);
};
