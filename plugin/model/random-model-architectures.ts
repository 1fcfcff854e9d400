/**
 * Raw config.json contents (diffusers / transformers layout) for the random-weight models the
 * project generates: `tiny` (the size of the official-code golden model, for tests and the
 * no-model demo) and `sd15` (the full Stable Diffusion 1.5 architecture, for benchmarks).
 */
export type RandomModelArchitecture = 'tiny' | 'sd15';

type RawConfigs = {
	unet: Record<string, unknown>;
	vae: Record<string, unknown>;
	textEncoder: Omit<Record<string, unknown>, 'vocab_size'>;
};

const SCHEDULER_CONFIG = {
	_class_name: 'DDIMScheduler',
	_diffusers_version: '0.11.1',
	beta_end: 0.012,
	beta_schedule: 'scaled_linear',
	beta_start: 0.00085,
	clip_sample: false,
	num_train_timesteps: 1000,
	prediction_type: 'epsilon',
	set_alpha_to_one: false,
	steps_offset: 1,
	trained_betas: null,
};

const unetConfig = (blockOutChannels: number[], heads: number, crossAttentionDim: number, groups: number, sampleSize: number) => ({
	_class_name: 'UNet2DConditionModel',
	_diffusers_version: '0.11.1',
	act_fn: 'silu',
	attention_head_dim: heads,
	block_out_channels: blockOutChannels,
	center_input_sample: false,
	cross_attention_dim: crossAttentionDim,
	down_block_types: [...blockOutChannels.slice(1).map(() => 'CrossAttnDownBlock2D'), 'DownBlock2D'],
	downsample_padding: 1,
	flip_sin_to_cos: true,
	freq_shift: 0,
	in_channels: 4,
	layers_per_block: 2,
	mid_block_scale_factor: 1,
	norm_eps: 1e-5,
	norm_num_groups: groups,
	out_channels: 4,
	sample_size: sampleSize,
	up_block_types: ['UpBlock2D', ...blockOutChannels.slice(1).map(() => 'CrossAttnUpBlock2D')],
});

const vaeConfig = (blockOutChannels: number[], groups: number, sampleSize: number) => ({
	_class_name: 'AutoencoderKL',
	_diffusers_version: '0.11.1',
	act_fn: 'silu',
	block_out_channels: blockOutChannels,
	down_block_types: blockOutChannels.map(() => 'DownEncoderBlock2D'),
	in_channels: 3,
	latent_channels: 4,
	layers_per_block: 2,
	norm_num_groups: groups,
	out_channels: 3,
	sample_size: sampleSize,
	up_block_types: blockOutChannels.map(() => 'UpDecoderBlock2D'),
});

const textEncoderConfig = (hidden: number, intermediate: number, layers: number, heads: number) => ({
	architectures: ['CLIPTextModel'],
	attention_dropout: 0,
	bos_token_id: 0,
	dropout: 0,
	eos_token_id: 2,
	hidden_act: 'quick_gelu',
	hidden_size: hidden,
	initializer_factor: 1,
	initializer_range: 0.02,
	intermediate_size: intermediate,
	layer_norm_eps: 1e-5,
	max_position_embeddings: 77,
	model_type: 'clip_text_model',
	num_attention_heads: heads,
	num_hidden_layers: layers,
	pad_token_id: 1,
	projection_dim: hidden,
	torch_dtype: 'float32',
	transformers_version: '4.25.1',
});

export const RANDOM_MODEL_CONFIGS: Record<RandomModelArchitecture, RawConfigs> = {
	// Same shapes as ../shared/golden/tiny-sd: 3 UNet levels (32, 64, 64), 2 layers per block.
	tiny: {
		unet: unetConfig([32, 64, 64], 4, 32, 16, 16),
		vae: vaeConfig([16, 32, 32, 32], 8, 128),
		textEncoder: textEncoderConfig(32, 37, 2, 4),
	},
	// runwayml/stable-diffusion-v1-5 shapes.
	sd15: {
		unet: unetConfig([320, 640, 1280, 1280], 8, 768, 32, 64),
		vae: vaeConfig([128, 256, 512, 512], 32, 512),
		textEncoder: textEncoderConfig(768, 3072, 12, 12),
	},
};

export const RANDOM_MODEL_SCHEDULER_CONFIG = SCHEDULER_CONFIG;
