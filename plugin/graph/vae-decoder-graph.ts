import type {VaeConfig} from '../model/component-configs.js';
import {conv2d, toComputeType, toFloat32, groupNorm, silu, type LayerContext} from './common-layers.js';
import {
	VAE_NORM_EPS,
	vaeMidBlock,
	vaeResnetBlock,
	vaeUpsample,
	type VaeGraphOptions,
} from './vae-blocks.js';

/**
 * diffusers 0.11 AutoencoderKL.decode (post_quant_conv + decoder):
 * `latent` float32 [N, latent, h, w], the raw VAE latent (already divided by the scaling factor:
 * the diffusion code scales) -> `sample` float32 [N, 3, 8h, 8w] (for 4 blocks), unclamped.
 */
export const buildVaeDecoderGraph = (ctx: LayerContext, config: VaeConfig, options: VaeGraphOptions = {}): void => {
	const {b} = ctx;
	const groups = config.normNumGroups;
	const latentChannels = config.latentChannels;
	// The decoder walks the levels from the deepest up, with the channels reversed.
	const channels = [...config.blockOutChannels].reverse();
	const latent = b.input('latent', 'float32', ['batch', latentChannels, 'latent_height', 'latent_width']);

	let h = conv2d(ctx, 'post_quant_conv', toComputeType(ctx, latent), latentChannels, latentChannels, 1);
	let current = channels[0];
	h = conv2d(ctx, 'decoder.conv_in', h, latentChannels, current, 3, {padding: 1});
	h = vaeMidBlock(ctx, 'decoder.mid_block', h, current, groups, options);
	channels.forEach((out, block) => {
		const prefix = `decoder.up_blocks.${block}`;
		// UpDecoderBlock2D has one resnet more than the encoder's blocks.
		for (let layer = 0; layer < config.layersPerBlock + 1; layer++) {
			h = vaeResnetBlock(ctx, `${prefix}.resnets.${layer}`, h, layer === 0 ? current : out, out, groups);
		}
		current = out;
		if (block < channels.length - 1) h = vaeUpsample(ctx, `${prefix}.upsamplers.0`, h, out);
	});
	h = groupNorm(ctx, 'decoder.conv_norm_out', h, current, groups, VAE_NORM_EPS);
	h = conv2d(ctx, 'decoder.conv_out', silu(ctx, h), current, config.outChannels, 3, {padding: 1});
	b.output('sample', toFloat32(ctx, h), 'float32', ['batch', config.outChannels, 'height', 'width']);
};
