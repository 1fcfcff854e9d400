import {FateZeroError} from '../errors/fatezero-error.js';
import type {VaeConfig} from './component-configs.js';
import {ConfigFields, PASS_SD1_FOLDER, equals, unsupportedModel, type ParsedConfig} from './config-fields.js';

/** SD-1.x's latent scale; diffusers' AutoencoderKL default too. */
export const SD1_VAE_SCALING_FACTOR = 0.18215;

const OTHER_VAE_CLASSES: Record<string, string> = {
	AutoencoderTiny: 'TAESD, a distilled VAE with another architecture',
	AsymmetricAutoencoderKL: 'an asymmetric (inpainting) VAE with a larger decoder',
	AutoencoderKLTemporalDecoder: 'a Stable Video Diffusion VAE',
	ConsistencyDecoderVAE: 'a consistency decoder',
	VQModel: 'a VQ autoencoder (Kandinsky / LDM)',
};

const checkBlockTypes = (f: ConfigFields, key: string, expected: string, count: number) => {
	const types = f.stringList(key, [expected]);
	types.forEach((type, i) => {
		if (type !== expected) {
			throw new FateZeroError(
				'MODEL_UNSUPPORTED',
				`unknown block type \`${type}\` in ${f.path} ${key}[${i}]; supported: ${expected}. remotion-fatezero runs Stable Diffusion 1.x VAEs only. ${PASS_SD1_FOLDER}`,
			);
		}
	});
	if (types.length !== count) {
		throw f.invalid(key, f.raw[key], `as many entries as block_out_channels (${count})`);
	}
};

/** vae/config.json (diffusers AutoencoderKL) -> VaeConfig, with diffusers' defaults. */
export const parseVaeConfig = (raw: unknown, path: string): ParsedConfig<VaeConfig> => {
	const f = ConfigFields.of(raw, path, 'diffusers AutoencoderKL');
	const className = f.string('_class_name');
	if (className !== 'AutoencoderKL') {
		const why = OTHER_VAE_CLASSES[className] ?? 'not an AutoencoderKL';
		throw unsupportedModel(path, `_class_name is ${JSON.stringify(className)} (${why}); SD-1.x has "AutoencoderKL"`);
	}
	const isNull = equals();
	f.expectDefault('act_fn', equals('silu'), '"silu"', 'another activation function');
	f.expectDefault('use_quant_conv', equals(true), 'true', 'a VAE without quant_conv');
	f.expectDefault('use_post_quant_conv', equals(true), 'true', 'a VAE without post_quant_conv');
	f.expectDefault('mid_block_add_attention', equals(true), 'true', 'a mid block without attention');
	f.expectDefault('shift_factor', isNull, 'null', 'shifted latents, as SD 3 and FLUX use');
	f.expectDefault('latents_mean', isNull, 'null', 'per-channel latent statistics');
	f.expectDefault('latents_std', isNull, 'null', 'per-channel latent statistics');

	const blockOutChannels = f.intList('block_out_channels');
	checkBlockTypes(f, 'down_block_types', 'DownEncoderBlock2D', blockOutChannels.length);
	checkBlockTypes(f, 'up_block_types', 'UpDecoderBlock2D', blockOutChannels.length);
	const normNumGroups = f.int('norm_num_groups', 32);
	const bad = blockOutChannels.find((c) => c % normNumGroups !== 0);
	if (bad !== undefined) {
		throw f.invalid('norm_num_groups', normNumGroups, `a divisor of every block_out_channels entry (${bad} is not a multiple)`);
	}
	const config: VaeConfig = {
		inChannels: f.int('in_channels', 3),
		outChannels: f.int('out_channels', 3),
		latentChannels: f.int('latent_channels', 4),
		blockOutChannels,
		layersPerBlock: f.int('layers_per_block', 1),
		normNumGroups,
		sampleSize: f.int('sample_size', 32),
		scalingFactor: f.positiveNumber('scaling_factor', SD1_VAE_SCALING_FACTOR),
	};
	return {config, warnings: []};
};
