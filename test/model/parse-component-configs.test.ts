import path from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {parseComponentConfigs} from '../../plugin/model/parse-component-configs.js';
import {parseSchedulerConfig} from '../../plugin/model/parse-scheduler-config.js';
import {parseTextEncoderConfig} from '../../plugin/model/parse-text-encoder-config.js';
import {parseUnetConfig} from '../../plugin/model/parse-unet-config.js';
import {parseVaeConfig} from '../../plugin/model/parse-vae-config.js';
import {readModelFolder} from '../../plugin/model/read-model-folder.js';
import {makeModelFolder, removeFixtures, thrown, tinyConfigs} from './model-fixture.js';

afterEach(removeFixtures);

const UNET = '/models/x/unet/config.json';
const VAE = '/models/x/vae/config.json';
const TEXT = '/models/x/text_encoder/config.json';
const SCHEDULER = '/models/x/scheduler/scheduler_config.json';

const unetWith = (edit: Record<string, unknown>) => ({...tinyConfigs().unet, ...edit});
const unetError = (edit: Record<string, unknown>) => thrown(() => parseUnetConfig(unetWith(edit), UNET));

describe('parseUnetConfig', () => {
	it('applies diffusers defaults and reads attention_head_dim as heads per down block', () => {
		const {config} = parseUnetConfig({_class_name: 'UNet2DConditionModel', block_out_channels: [320, 640, 1280, 1280], down_block_types: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'], up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'], cross_attention_dim: 768}, UNET);
		expect(config).toEqual({
			inChannels: 4,
			outChannels: 4,
			downBlockTypes: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
			upBlockTypes: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
			blockOutChannels: [320, 640, 1280, 1280],
			layersPerBlock: 2,
			attentionHeads: [8, 8, 8, 8],
			crossAttentionDim: 768,
			normNumGroups: 32,
			normEps: 1e-5,
			useLinearProjection: false,
			flipSinToCos: true,
			freqShift: 0,
			downsamplePadding: 1,
			sampleSize: 64,
		});
		expect(parseUnetConfig(unetWith({attention_head_dim: [2, 4]}), UNET).config.attentionHeads).toEqual([2, 4]);
		// null (what save_config writes for None) and unknown keys are fine
		expect(parseUnetConfig(unetWith({class_embed_type: null, mid_block_type: 'UNetMidBlock2DCrossAttn', some_future_key: 1}), UNET).config.layersPerBlock).toBe(1);
	});

	it('refuses another UNet class, naming it', () => {
		const error = unetError({_class_name: 'UNet3DConditionModel'});
		expect(error.code).toBe('MODEL_UNSUPPORTED');
		expect(error.message).toContain(`${UNET}: _class_name is "UNet3DConditionModel" (a text-to-video UNet`);
		expect(error.message).toContain('--model');
	});

	it.each([
		[{addition_embed_type: 'text_time'}, '"addition_embed_type" is "text_time" (an SDXL-style UNet'],
		[{transformer_layers_per_block: [1, 2]}, '"transformer_layers_per_block" is [1,2]'],
		[{upcast_attention: true}, '"upcast_attention" is true'],
		[{class_embed_type: 'timestep'}, '"class_embed_type" is "timestep"'],
		[{resnet_time_scale_shift: 'scale_shift'}, '"resnet_time_scale_shift" is "scale_shift"'],
		[{only_cross_attention: [true, false]}, '"only_cross_attention" is [true,false]'],
		[{dual_cross_attention: true}, '"dual_cross_attention" is true'],
		[{time_cond_proj_dim: 256}, '"time_cond_proj_dim" is 256 (a guidance-distilled UNet'],
		[{mid_block_type: 'UNetMidBlock2DSimpleCrossAttn'}, 'unknown mid_block_type "UNetMidBlock2DSimpleCrossAttn"; supported: UNetMidBlock2DCrossAttn'],
		[{mid_block_type: null}, 'unknown mid_block_type null'],
		[{attention_head_dim: [2, 4], num_attention_heads: 8}, '"num_attention_heads" is 8'],
	])('refuses non-SD-1.x switch %j', (edit, text) => {
		const error = unetError(edit);
		expect(error.code).toBe('MODEL_UNSUPPORTED');
		expect(error.message).toContain(UNET);
		expect(error.message).toContain(text);
		expect(error.message).toContain('Stable Diffusion 1.x');
	});

	it('names an unknown block type, its position and the supported ones', () => {
		const error = unetError({down_block_types: ['CrossAttnDownBlock2D', 'SimpleCrossAttnDownBlock2D']});
		expect(error.code).toBe('MODEL_UNSUPPORTED');
		expect(error.message).toContain(`unknown block type \`SimpleCrossAttnDownBlock2D\` (a UnCLIP / Kandinsky-style block) in ${UNET} down_block_types[1]; supported: CrossAttnDownBlock2D, DownBlock2D`);
		const up = unetError({up_block_types: ['UpBlock2D', 'CrossAttnUpBlock3D']});
		expect(up.message).toContain('up_block_types[1]; supported: CrossAttnUpBlock2D, UpBlock2D');
	});

	it('reports missing and malformed keys as MODEL_CONFIG_INVALID with the file, key and value', () => {
		const {cross_attention_dim: _, ...noCrossDim} = tinyConfigs().unet;
		const missing = thrown(() => parseUnetConfig(noCrossDim, UNET));
		expect(missing.code).toBe('MODEL_CONFIG_INVALID');
		expect(missing.message).toContain(`${UNET} has no "cross_attention_dim" key`);
		expect(missing.message).toContain('Download config.json again');

		const wrongType = unetError({layers_per_block: 'two'});
		expect(wrongType.code).toBe('MODEL_CONFIG_INVALID');
		expect(wrongType.message).toContain(`${UNET}: "layers_per_block" is "two", expected an integer >= 1`);

		const heads = unetError({attention_head_dim: [2, 4, 8]});
		expect(heads.code).toBe('MODEL_CONFIG_INVALID');
		expect(heads.message).toContain('"attention_head_dim" is [2,4,8], expected one integer, or a list of 2');

		const lengths = unetError({block_out_channels: [8, 16, 16]});
		expect(lengths.code).toBe('MODEL_CONFIG_INVALID');
		expect(lengths.message).toContain('as many entries as block_out_channels [8,16,16] (3)');

		expect(unetError({norm_num_groups: 3}).message).toContain('"norm_num_groups" is 3, expected a divisor of every block_out_channels entry');
		expect(thrown(() => parseUnetConfig([1, 2], UNET)).code).toBe('MODEL_CONFIG_INVALID');
	});
});

describe('parseVaeConfig', () => {
	it('defaults scaling_factor to 0.18215 and reads it when present', () => {
		const {config} = parseVaeConfig(tinyConfigs().vae, VAE);
		expect(config).toEqual({inChannels: 3, outChannels: 3, latentChannels: 4, blockOutChannels: [8, 8], layersPerBlock: 1, normNumGroups: 4, sampleSize: 32, scalingFactor: 0.18215});
		expect(parseVaeConfig({...tinyConfigs().vae, scaling_factor: 0.13025}, VAE).config.scalingFactor).toBe(0.13025);
	});

	it('refuses other autoencoders and block types', () => {
		const tiny = thrown(() => parseVaeConfig({...tinyConfigs().vae, _class_name: 'AutoencoderTiny'}, VAE));
		expect(tiny.code).toBe('MODEL_UNSUPPORTED');
		expect(tiny.message).toContain('_class_name is "AutoencoderTiny" (TAESD');
		const block = thrown(() => parseVaeConfig({...tinyConfigs().vae, up_block_types: ['UpDecoderBlock2D', 'UpDecoderBlockX']}, VAE));
		expect(block.message).toContain(`unknown block type \`UpDecoderBlockX\` in ${VAE} up_block_types[1]; supported: UpDecoderBlock2D`);
	});
});

describe('parseTextEncoderConfig', () => {
	it('reads a CLIPTextConfig and a full CLIPConfig text_config', () => {
		const {config} = parseTextEncoderConfig(tinyConfigs().textEncoder, TEXT);
		expect(config).toEqual({vocabSize: 49408, hiddenSize: 8, intermediateSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, maxPositionEmbeddings: 77, hiddenAct: 'quick_gelu', layerNormEps: 1e-5});
		const {model_type: _, ...textConfig} = tinyConfigs().textEncoder;
		expect(parseTextEncoderConfig({model_type: 'clip', text_config: textConfig, vision_config: {}}, TEXT).config).toEqual(config);
	});

	it('refuses other encoders and names missing sizes', () => {
		const t5 = thrown(() => parseTextEncoderConfig({model_type: 't5', architectures: ['T5EncoderModel']}, TEXT));
		expect(t5.code).toBe('MODEL_UNSUPPORTED');
		expect(t5.message).toContain('model_type is "t5" (T5EncoderModel)');
		const {hidden_size: _, ...noHidden} = tinyConfigs().textEncoder;
		const missing = thrown(() => parseTextEncoderConfig(noHidden, TEXT));
		expect(missing.code).toBe('MODEL_CONFIG_INVALID');
		expect(missing.message).toContain(`${TEXT} has no "hidden_size" key`);
	});
});

describe('parseSchedulerConfig', () => {
	it('refuses v_prediction (SD 2.x 768-v) and unknown beta schedules', () => {
		const v = thrown(() => parseSchedulerConfig({...tinyConfigs().scheduler, prediction_type: 'v_prediction'}, SCHEDULER));
		expect(v.code).toBe('MODEL_UNSUPPORTED');
		expect(v.message).toContain(`${SCHEDULER}: prediction_type is "v_prediction" (a v-prediction model such as SD 2.x 768-v)`);
		const cos = thrown(() => parseSchedulerConfig({...tinyConfigs().scheduler, beta_schedule: 'squaredcos_cap_v2'}, SCHEDULER));
		expect(cos.message).toContain('beta_schedule is "squaredcos_cap_v2"; supported: scaled_linear, linear');
	});

	it('accepts clip_sample true (or missing, DDIM defaults it on) with a warning', () => {
		const on = parseSchedulerConfig({...tinyConfigs().scheduler, clip_sample: true}, SCHEDULER);
		expect(on.config.clipSample).toBe(true);
		expect(on.warnings).toHaveLength(1);
		expect(on.warnings[0]).toContain(`${SCHEDULER}: clip_sample is true; FateZero's setups expect false`);
		const {clip_sample: _, set_alpha_to_one: __, steps_offset: ___, ...bare} = tinyConfigs().scheduler;
		const defaults = parseSchedulerConfig(bare, SCHEDULER);
		expect(defaults.config).toMatchObject({clipSample: true, setAlphaToOne: true, stepsOffset: 0, numTrainTimesteps: 1000});
		expect(defaults.warnings[0]).toContain('clip_sample is missing (DDIMScheduler then defaults to true)');
		expect(parseSchedulerConfig(tinyConfigs().scheduler, SCHEDULER).warnings).toEqual([]);
	});

	it('requires the beta schedule keys', () => {
		const {beta_start: _, ...noStart} = tinyConfigs().scheduler;
		const error = thrown(() => parseSchedulerConfig(noStart, SCHEDULER));
		expect(error.code).toBe('MODEL_CONFIG_INVALID');
		expect(error.message).toContain(`${SCHEDULER} has no "beta_start" key`);
	});
});

describe('parseComponentConfigs: components must agree', () => {
	const raw = (edit: (c: ReturnType<typeof tinyConfigs>) => void) => {
		const c = tinyConfigs();
		edit(c);
		return {unet: {raw: c.unet, path: UNET}, vae: {raw: c.vae, path: VAE}, textEncoder: {raw: c.textEncoder, path: TEXT}, scheduler: {raw: c.scheduler, path: SCHEDULER}};
	};

	it('checks cross_attention_dim against the text encoder hidden size', () => {
		const error = thrown(() => parseComponentConfigs(raw((c) => void (c.unet.cross_attention_dim = 16))));
		expect(error.code).toBe('MODEL_CONFIG_INVALID');
		expect(error.message).toContain(`${UNET} has cross_attention_dim 16 but ${TEXT} has hidden_size 8`);
		expect(error.message).toContain('come from different models');
	});

	it('refuses an inpainting UNet (9 input channels)', () => {
		const error = thrown(() => parseComponentConfigs(raw((c) => void (c.unet.in_channels = 9))));
		expect(error.code).toBe('MODEL_UNSUPPORTED');
		expect(error.message).toContain('has in_channels 9 but');
		expect(error.message).toContain('an inpainting UNet');
	});

	it('collects warnings from every component', () => {
		expect(parseComponentConfigs(raw((c) => void (c.scheduler.clip_sample = true))).warnings).toHaveLength(1);
	});

	it('surfaces through readModelFolder with the real paths', () => {
		const dir = makeModelFolder({edit: (c) => void (c.scheduler.prediction_type = 'v_prediction')});
		const error = thrown(() => readModelFolder(dir));
		expect(error.code).toBe('MODEL_UNSUPPORTED');
		expect(error.message).toContain(path.join(dir, 'scheduler/scheduler_config.json'));
		const warned = readModelFolder(makeModelFolder({edit: (c) => void (c.scheduler.clip_sample = true)}));
		expect(warned.scheduler.config.clipSample).toBe(true);
		expect(warned.warnings).toHaveLength(1);
	});
});
