import {FateZeroError} from '../errors/fatezero-error.js';
import type {ClipTextConfig, SchedulerConfig, UnetConfig, VaeConfig} from './component-configs.js';
import {PASS_SD1_FOLDER} from './config-fields.js';
import {parseSchedulerConfig} from './parse-scheduler-config.js';
import {parseTextEncoderConfig} from './parse-text-encoder-config.js';
import {parseUnetConfig} from './parse-unet-config.js';
import {parseVaeConfig} from './parse-vae-config.js';

/** One config file's parsed JSON and its path (for messages). */
export type RawConfig = {raw: unknown; path: string};

export type ComponentConfigs = {
	unet: UnetConfig;
	vae: VaeConfig;
	textEncoder: ClipTextConfig;
	scheduler: SchedulerConfig;
};

// What extra UNet input channels mean, for the models people try by mistake.
const EXTRA_INPUT_CHANNELS: Record<number, string> = {
	1: 'a depth-to-image UNet',
	4: 'an InstructPix2Pix UNet',
	5: 'an inpainting UNet',
};

/**
 * Parses the four configs and checks that they describe one model: each file alone can be a
 * valid SD-1.x component while the folder mixes two models (an SD-2 UNet with an SD-1 text
 * encoder), which would only surface later as a shape error deep in a graph.
 */
export const parseComponentConfigs = (files: {
	unet: RawConfig;
	vae: RawConfig;
	textEncoder: RawConfig;
	scheduler: RawConfig;
}): ComponentConfigs & {warnings: string[]} => {
	const unet = parseUnetConfig(files.unet.raw, files.unet.path);
	const vae = parseVaeConfig(files.vae.raw, files.vae.path);
	const textEncoder = parseTextEncoderConfig(files.textEncoder.raw, files.textEncoder.path);
	const scheduler = parseSchedulerConfig(files.scheduler.raw, files.scheduler.path);

	if (unet.config.crossAttentionDim !== textEncoder.config.hiddenSize) {
		throw new FateZeroError(
			'MODEL_CONFIG_INVALID',
			`${files.unet.path} has cross_attention_dim ${unet.config.crossAttentionDim} but ${files.textEncoder.path} has hidden_size ${textEncoder.config.hiddenSize}: the UNet and the text encoder come from different models (SD-1.x uses 768 for both). Use unet/ and text_encoder/ from the same model. ${PASS_SD1_FOLDER}`,
		);
	}
	const latents = vae.config.latentChannels;
	if (unet.config.inChannels !== latents) {
		const extra = EXTRA_INPUT_CHANNELS[unet.config.inChannels - latents];
		throw new FateZeroError(
			'MODEL_UNSUPPORTED',
			`${files.unet.path} has in_channels ${unet.config.inChannels} but ${files.vae.path} has latent_channels ${latents}${extra ? ` (${extra}, which takes extra input channels)` : ''}. FateZero edits with a plain text-to-image UNet whose in_channels equal the VAE's latent_channels (4 for SD-1.x). ${PASS_SD1_FOLDER}`,
		);
	}
	if (unet.config.outChannels !== latents) {
		throw new FateZeroError(
			'MODEL_UNSUPPORTED',
			`${files.unet.path} has out_channels ${unet.config.outChannels} but ${files.vae.path} has latent_channels ${latents}; an SD-1.x UNet predicts one noise value per latent channel. ${PASS_SD1_FOLDER}`,
		);
	}

	return {
		unet: unet.config,
		vae: vae.config,
		textEncoder: textEncoder.config,
		scheduler: scheduler.config,
		warnings: [...unet.warnings, ...vae.warnings, ...textEncoder.warnings, ...scheduler.warnings],
	};
};
