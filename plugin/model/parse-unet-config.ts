import type {UnetConfig, UnetDownBlockType, UnetUpBlockType} from './component-configs.js';
import {FateZeroError} from '../errors/fatezero-error.js';
import {ConfigFields, PASS_SD1_FOLDER, allEqual, allFalse, equals, unsupportedModel, type ParsedConfig} from './config-fields.js';

const DOWN_BLOCK_TYPES: readonly UnetDownBlockType[] = ['CrossAttnDownBlock2D', 'DownBlock2D'];
const UP_BLOCK_TYPES: readonly UnetUpBlockType[] = ['CrossAttnUpBlock2D', 'UpBlock2D'];
const MID_BLOCK_TYPE = 'UNetMidBlock2DCrossAttn';

// Why a folder with another UNet class is not usable, for the classes people actually try.
const OTHER_UNET_CLASSES: Record<string, string> = {
	UNet3DConditionModel: 'a text-to-video UNet (ModelScope / Zeroscope); FateZero inflates an SD-1.x image UNet itself',
	UNetPseudo3DConditionModel: 'a UNet FateZero already inflated; pass the original SD-1.x folder, FateZero inflates it at load',
	UNetSpatioTemporalConditionModel: 'a Stable Video Diffusion UNet',
	UNet2DModel: 'an unconditional UNet without text conditioning',
	UNetMotionModel: 'an AnimateDiff motion UNet',
	SD3Transformer2DModel: 'a Stable Diffusion 3 transformer',
	FluxTransformer2DModel: 'a FLUX transformer',
};

// Switches whose non-default values build a different network (SDXL, upscalers, LCM, IF, ...).
const rejectNonDefaults = (f: ConfigFields) => {
	const isNull = equals();
	f.expectDefault('addition_embed_type', isNull, 'null', 'an SDXL-style UNet that also conditions on pooled text embeddings and image size');
	f.expectDefault('addition_time_embed_dim', isNull, 'null', 'an SDXL-style size/crop conditioning');
	f.expectDefault('transformer_layers_per_block', allEqual(1), '1', 'several transformer layers per block, as in SDXL');
	f.expectDefault('reverse_transformer_layers_per_block', isNull, 'null', 'several transformer layers per up block, as in SDXL');
	f.expectDefault('class_embed_type', isNull, 'null', 'a class-conditioned UNet, e.g. an upscaler or image-variation model');
	f.expectDefault('num_class_embeds', isNull, 'null', 'a class-conditioned UNet');
	f.expectDefault('projection_class_embeddings_input_dim', isNull, 'null', 'a class-conditioned UNet');
	f.expectDefault('class_embeddings_concat', equals(false), 'false', 'class embeddings concatenated to the time embedding');
	f.expectDefault('encoder_hid_dim', isNull, 'null', 'a UNet that projects its text embeddings first, as DeepFloyd IF and Kandinsky do');
	f.expectDefault('encoder_hid_dim_type', isNull, 'null', 'a UNet that projects its text embeddings first');
	f.expectDefault('time_cond_proj_dim', isNull, 'null', 'a guidance-distilled UNet such as LCM, which takes a guidance embedding');
	f.expectDefault('upcast_attention', equals(false), 'false', 'attention upcast to float32, as SD 2.1 needs');
	f.expectDefault('resnet_time_scale_shift', equals('default'), '"default"', 'scale-shift time conditioning in the ResNet blocks');
	f.expectDefault('only_cross_attention', allFalse, 'false', 'attention blocks without self-attention');
	f.expectDefault('dual_cross_attention', equals(false), 'false', 'dual cross-attention');
	f.expectDefault('mid_block_only_cross_attention', equals(false), 'null', 'a mid block without self-attention');
	f.expectDefault('cross_attention_norm', isNull, 'null', 'normalised cross-attention inputs');
	f.expectDefault('attention_type', equals('default'), '"default"', 'gated (GLIGEN) attention');
	f.expectDefault('center_input_sample', equals(false), 'false', 'a UNet that rescales its input to [-1, 1]');
	f.expectDefault('act_fn', equals('silu'), '"silu"', 'another activation function');
	f.expectDefault('time_embedding_type', equals('positional'), '"positional"', 'another timestep embedding');
	f.expectDefault('time_embedding_dim', isNull, 'null', 'a resized timestep embedding');
	f.expectDefault('time_embedding_act_fn', isNull, 'null', 'an extra timestep activation');
	f.expectDefault('timestep_post_act', isNull, 'null', 'an extra timestep activation');
	f.expectDefault('conv_in_kernel', equals(3), '3', 'another input convolution');
	f.expectDefault('conv_out_kernel', equals(3), '3', 'another output convolution');
	f.expectDefault('mid_block_scale_factor', equals(1), '1', 'a rescaled mid block');
	f.expectDefault('resnet_skip_time_act', equals(false), 'false', 'another ResNet time conditioning');
	f.expectDefault('resnet_out_scale_factor', equals(1), '1', 'rescaled ResNet outputs');
	// diffusers itself refuses a non-null num_attention_heads on this class (a naming quirk: the
	// head count lives in attention_head_dim), so such a file comes from another library.
	f.expectDefault('num_attention_heads', equals(), 'null', 'a head count diffusers cannot load into UNet2DConditionModel');
};

const blockTypes = <T extends string>(f: ConfigFields, key: string, supported: readonly T[]): T[] => {
	const types = f.stringList(key);
	types.forEach((type, i) => {
		if (!supported.includes(type as T)) {
			const hint = /3D|Motion|Temporal/.test(type) ? ' (a video block)' : type.startsWith('Simple') ? ' (a UnCLIP / Kandinsky-style block)' : '';
			throw new FateZeroError(
				'MODEL_UNSUPPORTED',
				`unknown block type \`${type}\`${hint} in ${f.path} ${key}[${i}]; supported: ${supported.join(', ')}. remotion-fatezero runs Stable Diffusion 1.x UNets only. ${PASS_SD1_FOLDER}`,
			);
		}
	});
	return types as T[];
};

/**
 * unet/config.json (diffusers UNet2DConditionModel) -> UnetConfig. Defaults are diffusers'
 * except `sample_size` (None there; SD-1.x's 64 here). Keys diffusers ignores or that we do not
 * build from (dropout, _diffusers_version, ...) pass silently.
 */
export const parseUnetConfig = (raw: unknown, path: string): ParsedConfig<UnetConfig> => {
	const f = ConfigFields.of(raw, path, 'diffusers UNet2DConditionModel');
	const className = f.string('_class_name');
	if (className !== 'UNet2DConditionModel') {
		const why = OTHER_UNET_CLASSES[className] ?? 'not a UNet2DConditionModel';
		throw unsupportedModel(path, `_class_name is ${JSON.stringify(className)} (${why}); SD-1.x has "UNet2DConditionModel"`);
	}
	rejectNonDefaults(f);

	const downBlockTypes = blockTypes(f, 'down_block_types', DOWN_BLOCK_TYPES);
	const upBlockTypes = blockTypes(f, 'up_block_types', UP_BLOCK_TYPES);
	const midBlockType = f.raw.mid_block_type;
	// Absent means diffusers' default (SD v1-4's config has no such key); null means no mid block.
	if (midBlockType !== undefined && midBlockType !== MID_BLOCK_TYPE) {
		throw unsupportedModel(path, `unknown mid_block_type ${JSON.stringify(midBlockType)}; supported: ${MID_BLOCK_TYPE}`);
	}
	const blockOutChannels = f.intList('block_out_channels');
	const blocks = blockOutChannels.length;
	if (downBlockTypes.length !== blocks || upBlockTypes.length !== blocks) {
		throw f.invalid(
			'down_block_types',
			f.raw.down_block_types,
			`as many entries as block_out_channels ${JSON.stringify(blockOutChannels)} (${blocks}), and up_block_types ${JSON.stringify(upBlockTypes)} the same`,
		);
	}

	const headsRaw = f.get('attention_head_dim');
	let attentionHeads: number[];
	if (Array.isArray(headsRaw)) {
		attentionHeads = f.intList('attention_head_dim');
		if (attentionHeads.length !== blocks) {
			throw f.invalid('attention_head_dim', headsRaw, `one integer, or a list of ${blocks} (one per down block)`);
		}
	} else {
		attentionHeads = new Array<number>(blocks).fill(f.int('attention_head_dim', 8));
	}

	const normNumGroups = f.int('norm_num_groups', 32);
	blockOutChannels.forEach((channels, i) => {
		if (channels % normNumGroups !== 0) {
			throw f.invalid('norm_num_groups', normNumGroups, `a divisor of every block_out_channels entry (${channels} at [${i}] is not a multiple)`);
		}
		// The mid block uses the last level's head count, so that level is checked even without cross-attention.
		const hasAttention = downBlockTypes[i] === 'CrossAttnDownBlock2D' || i === blocks - 1;
		if (hasAttention && channels % attentionHeads[i] !== 0) {
			throw f.invalid('attention_head_dim', f.raw.attention_head_dim, `head counts that divide block_out_channels (${channels} at [${i}] is not a multiple of ${attentionHeads[i]})`);
		}
	});

	const config: UnetConfig = {
		inChannels: f.int('in_channels', 4),
		outChannels: f.int('out_channels', 4),
		downBlockTypes,
		upBlockTypes,
		blockOutChannels,
		layersPerBlock: f.sameIntOrList('layers_per_block', 2, blocks),
		attentionHeads,
		crossAttentionDim: f.sameIntOrList('cross_attention_dim', undefined, blocks),
		normNumGroups,
		normEps: f.positiveNumber('norm_eps', 1e-5),
		useLinearProjection: f.bool('use_linear_projection', false),
		flipSinToCos: f.bool('flip_sin_to_cos', true),
		freqShift: f.int('freq_shift', 0, 0),
		downsamplePadding: f.int('downsample_padding', 1, 0),
		sampleSize: f.int('sample_size', 64),
	};
	return {config, warnings: []};
};
