import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {writeSafetensors, type TensorToWrite} from '../../plugin/model/safetensors-file.js';

/** A small, valid SD-1.x-shaped set of configs (tiny sizes; only the structure matters here). */
export const tinyConfigs = () => ({
	modelIndex: {
		_class_name: 'StableDiffusionPipeline',
		_diffusers_version: '0.11.1',
		scheduler: ['diffusers', 'DDIMScheduler'],
		text_encoder: ['transformers', 'CLIPTextModel'],
		tokenizer: ['transformers', 'CLIPTokenizer'],
		unet: ['diffusers', 'UNet2DConditionModel'],
		vae: ['diffusers', 'AutoencoderKL'],
	} as Record<string, unknown>,
	unet: {
		_class_name: 'UNet2DConditionModel',
		attention_head_dim: 2,
		block_out_channels: [8, 16],
		cross_attention_dim: 8,
		down_block_types: ['CrossAttnDownBlock2D', 'DownBlock2D'],
		up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D'],
		in_channels: 4,
		out_channels: 4,
		layers_per_block: 1,
		norm_num_groups: 4,
		sample_size: 8,
	} as Record<string, unknown>,
	vae: {
		_class_name: 'AutoencoderKL',
		block_out_channels: [8, 8],
		down_block_types: ['DownEncoderBlock2D', 'DownEncoderBlock2D'],
		up_block_types: ['UpDecoderBlock2D', 'UpDecoderBlock2D'],
		latent_channels: 4,
		layers_per_block: 1,
		norm_num_groups: 4,
		sample_size: 32,
	} as Record<string, unknown>,
	textEncoder: {
		architectures: ['CLIPTextModel'],
		model_type: 'clip_text_model',
		hidden_size: 8,
		intermediate_size: 16,
		num_attention_heads: 2,
		num_hidden_layers: 1,
		max_position_embeddings: 77,
		hidden_act: 'quick_gelu',
	} as Record<string, unknown>,
	scheduler: {
		_class_name: 'PNDMScheduler',
		beta_start: 0.00085,
		beta_end: 0.012,
		beta_schedule: 'scaled_linear',
		clip_sample: false,
		num_train_timesteps: 1000,
		set_alpha_to_one: false,
		steps_offset: 1,
	} as Record<string, unknown>,
});

export const f32 = (shape: number[], fill = 0.5): TensorToWrite => {
	const data = new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(fill);
	return {dtype: 'F32', shape, bytes: new Uint8Array(data.buffer)};
};

export const unetTensors = () => ({
	'conv_in.weight': f32([8, 4, 3, 3]),
	'conv_in.bias': f32([8]),
});
export const vaeTensors = () => ({'quant_conv.weight': f32([8, 8, 1, 1]), 'quant_conv.bias': f32([8])});
export const textEncoderTensors = () => ({'text_model.final_layer_norm.weight': f32([8]), 'text_model.final_layer_norm.bias': f32([8])});

const writeJson = (file: string, value: unknown) => {
	mkdirSync(path.dirname(file), {recursive: true});
	writeFileSync(file, JSON.stringify(value, null, 2));
};

/** Temp folders made by this module, removed by removeFixtures(). */
const made: string[] = [];

export const tempDir = (): string => {
	const dir = mkdtempSync(path.join(tmpdir(), 'fatezero-model-'));
	made.push(dir);
	return dir;
};

export const removeFixtures = () => {
	for (const dir of made.splice(0)) rmSync(dir, {recursive: true, force: true});
};

export type FixtureOptions = {
	/** Edits applied to the configs before writing. */
	edit?: (configs: ReturnType<typeof tinyConfigs>) => void;
};

/** Writes a complete minimal diffusers SD-1.x folder (configs, safetensors, tokenizer) and returns its path. */
export const makeModelFolder = (options: FixtureOptions = {}): string => {
	const dir = path.join(tempDir(), 'tiny-model');
	const configs = tinyConfigs();
	options.edit?.(configs);
	writeJson(path.join(dir, 'model_index.json'), configs.modelIndex);
	writeJson(path.join(dir, 'unet/config.json'), configs.unet);
	writeJson(path.join(dir, 'vae/config.json'), configs.vae);
	writeJson(path.join(dir, 'text_encoder/config.json'), configs.textEncoder);
	writeJson(path.join(dir, 'scheduler/scheduler_config.json'), configs.scheduler);
	writeJson(path.join(dir, 'tokenizer/vocab.json'), {'<|startoftext|>': 0, '<|endoftext|>': 1});
	writeFileSync(path.join(dir, 'tokenizer/merges.txt'), '#version: 0.2\n');
	writeSafetensors(path.join(dir, 'unet/diffusion_pytorch_model.safetensors'), unetTensors());
	writeSafetensors(path.join(dir, 'vae/diffusion_pytorch_model.safetensors'), vaeTensors());
	writeSafetensors(path.join(dir, 'text_encoder/model.safetensors'), textEncoderTensors());
	return dir;
};

/** Runs `fn` and returns the error it throws (fails the test when it does not throw). */
export const thrown = (fn: () => unknown): Error & {code?: string} => {
	try {
		fn();
	} catch (error) {
		return error as Error & {code?: string};
	}
	throw new Error('expected an error, but none was thrown');
};
