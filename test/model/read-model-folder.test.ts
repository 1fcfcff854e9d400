import {appendFileSync, copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {isFateZeroError} from '../../plugin/errors/fatezero-error.js';
import {readModelFolder} from '../../plugin/model/read-model-folder.js';
import {writeSafetensors} from '../../plugin/model/safetensors-file.js';
import {goldenDir, goldenSkipReason, hasGolden} from '../helpers/golden.js';
import {f32, makeModelFolder, removeFixtures, tempDir, thrown, unetTensors} from './model-fixture.js';

afterEach(removeFixtures);

describe.skipIf(!hasGolden)('readModelFolder on the golden tiny-sd', () => {
	it('reads typed configs, weights and tokenizer', () => {
		const model = readModelFolder(path.join(goldenDir, 'tiny-sd'));
		expect(model.name).toBe('tiny-sd');
		expect(model.modelIndex._class_name).toBe('StableDiffusionPipeline');
		expect(model.unet.config).toEqual({
			inChannels: 4,
			outChannels: 4,
			downBlockTypes: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
			upBlockTypes: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
			blockOutChannels: [32, 64, 64],
			layersPerBlock: 2,
			attentionHeads: [4, 4, 4],
			crossAttentionDim: 32,
			normNumGroups: 16,
			normEps: 1e-5,
			useLinearProjection: false,
			flipSinToCos: true,
			freqShift: 0,
			downsamplePadding: 1,
			sampleSize: 16,
		});
		expect(model.vae.config).toMatchObject({blockOutChannels: [16, 32, 32, 32], latentChannels: 4, normNumGroups: 8, layersPerBlock: 2, scalingFactor: 0.18215});
		expect(model.textEncoder.config).toEqual({
			vocabSize: 49408,
			hiddenSize: 32,
			intermediateSize: 37,
			numHiddenLayers: 2,
			numAttentionHeads: 4,
			maxPositionEmbeddings: 77,
			hiddenAct: 'quick_gelu',
			layerNormEps: 1e-5,
		});
		expect(model.scheduler.config).toEqual({
			numTrainTimesteps: 1000,
			betaStart: 0.00085,
			betaEnd: 0.012,
			betaSchedule: 'scaled_linear',
			setAlphaToOne: false,
			stepsOffset: 1,
			clipSample: false,
			predictionType: 'epsilon',
		});
		expect(model.unet.weights.map((w) => w.location)).toEqual(['unet/diffusion_pytorch_model.safetensors']);
		expect(model.vae.weights.map((w) => w.location)).toEqual(['vae/diffusion_pytorch_model.safetensors']);
		expect(model.textEncoder.weights.map((w) => w.location)).toEqual(['text_encoder/model.safetensors']);
		expect(model.unet.weights[0].index.tensors.get('conv_in.weight')?.shape).toEqual([32, 4, 3, 3]);
		expect(model.tokenizerDir).toBe(path.join(goldenDir, 'tiny-sd', 'tokenizer'));
		expect(model.warnings).toEqual([]);
		expect(model.modelIdentity).toMatch(/^[0-9a-f]{64}$/);
		expect(readModelFolder(path.join(goldenDir, 'tiny-sd')).modelIdentity).toBe(model.modelIdentity);
	});
});
if (!hasGolden) it.skip(goldenSkipReason, () => {});

describe('readModelFolder: folder layout', () => {
	it('reads a minimal fixture folder', () => {
		const dir = makeModelFolder();
		const model = readModelFolder(dir);
		expect(model.dir).toBe(dir);
		expect(model.name).toBe('tiny-model');
		expect(model.unet.config.attentionHeads).toEqual([2, 2]);
		expect(model.unet.config.sampleSize).toBe(8);
		expect(model.vae.config.scalingFactor).toBe(0.18215);
		expect(model.textEncoder.config.layerNormEps).toBe(1e-5);
		expect(model.warnings).toEqual([]);
	});

	it('names a missing folder and how to pass one', () => {
		const dir = path.join(tempDir(), 'nope');
		const error = thrown(() => readModelFolder(dir));
		expect(isFateZeroError(error, 'MODEL_FOLDER_MISSING')).toBe(true);
		expect(error.message).toContain(`Model folder ${dir} does not exist`);
		expect(error.message).toContain('--model DIR');
		expect(error.message).toContain('FATEZERO_MODEL');
		expect(error.message).toContain('model_index.json, unet/, vae/, text_encoder/, tokenizer/, scheduler/');
	});

	it('lists everything missing at once: model_index.json, vae/, a tokenizer file', () => {
		const dir = makeModelFolder();
		rmSync(path.join(dir, 'model_index.json'));
		rmSync(path.join(dir, 'vae'), {recursive: true});
		rmSync(path.join(dir, 'tokenizer/merges.txt'));
		const error = thrown(() => readModelFolder(dir));
		expect(error.code).toBe('MODEL_FILE_MISSING');
		expect(error.message).toContain(`Model folder ${dir} is missing 3 files: model_index.json, vae/ (the whole folder), tokenizer/merges.txt`);
		expect(error.message).toContain('huggingface-cli download');
	});

	it('reports a folder without model_index.json', () => {
		const dir = makeModelFolder();
		rmSync(path.join(dir, 'model_index.json'));
		const error = thrown(() => readModelFolder(dir));
		expect(error.code).toBe('MODEL_FILE_MISSING');
		expect(error.message).toContain('is missing 1 file: model_index.json.');
	});

	it('reports a missing vae/ folder', () => {
		const dir = makeModelFolder();
		rmSync(path.join(dir, 'vae'), {recursive: true});
		const error = thrown(() => readModelFolder(dir));
		expect(error.code).toBe('MODEL_FILE_MISSING');
		expect(error.message).toContain('vae/ (the whole folder)');
		expect(error.message).not.toContain('vae/config.json');
	});

	it('reports missing weights and safetensors under names diffusers does not load', () => {
		const dir = makeModelFolder();
		renameSync(path.join(dir, 'unet/diffusion_pytorch_model.safetensors'), path.join(dir, 'unet/diffusion_pytorch_model.non_ema.safetensors'));
		rmSync(path.join(dir, 'text_encoder/model.safetensors'));
		const error = thrown(() => readModelFolder(dir));
		expect(error.code).toBe('MODEL_FILE_MISSING');
		expect(error.message).toContain(
			'unet/diffusion_pytorch_model.safetensors (found unet/diffusion_pytorch_model.non_ema.safetensors, a name diffusers does not load)',
		);
		expect(error.message).toContain('text_encoder/model.safetensors');
	});

	it('suggests converting a single-file checkpoint found in the folder', () => {
		const dir = tempDir();
		writeFileSync(path.join(dir, 'v1-5-pruned-emaonly.ckpt'), 'not really');
		const error = thrown(() => readModelFolder(dir));
		expect(error.code).toBe('MODEL_FILE_MISSING');
		expect(error.message).toContain('v1-5-pruned-emaonly.ckpt: a single-file checkpoint is not a diffusers folder');
		expect(error.message).toContain('StableDiffusionPipeline.from_single_file(');
		expect(error.message).toContain('safe_serialization=True');
	});

	it('refuses a single-file checkpoint passed as the folder, with the conversion', () => {
		const dir = tempDir();
		const ckpt = path.join(dir, 'model.ckpt');
		writeFileSync(ckpt, 'pickle');
		const pickle = thrown(() => readModelFolder(ckpt));
		expect(pickle.code).toBe('MODEL_WEIGHTS_PICKLE');
		expect(pickle.message).toContain(`${ckpt} is a single-file checkpoint (a PyTorch pickle)`);
		expect(pickle.message).toContain(`StableDiffusionPipeline.from_single_file('${ckpt}').save_pretrained('OUT', safe_serialization=True)`);

		const single = path.join(dir, 'sd15.safetensors');
		writeSafetensors(single, unetTensors());
		const error = thrown(() => readModelFolder(single));
		expect(error.code).toBe('MODEL_UNSUPPORTED');
		expect(error.message).toContain('needs a diffusers model folder');
		expect(error.message).toContain('from_single_file');

		const other = path.join(dir, 'notes.txt');
		writeFileSync(other, '');
		expect(thrown(() => readModelFolder(other)).code).toBe('MODEL_FOLDER_MISSING');
	});

	it('refuses pickle-only weights and says how to get safetensors', () => {
		const dir = makeModelFolder();
		rmSync(path.join(dir, 'unet/diffusion_pytorch_model.safetensors'));
		writeFileSync(path.join(dir, 'unet/diffusion_pytorch_model.bin'), 'pickle');
		const error = thrown(() => readModelFolder(dir));
		expect(error.code).toBe('MODEL_WEIGHTS_PICKLE');
		expect(error.message).toContain(`Model folder ${dir} has only PyTorch pickle weights for unet (unet/diffusion_pytorch_model.bin)`);
		expect(error.message).toContain('--include "*.safetensors"');
		expect(error.message).toContain(`save_pretrained('${dir}', safe_serialization=True)`);
	});

	it('names the component and file of a truncated safetensors', () => {
		const dir = makeModelFolder();
		const file = path.join(dir, 'vae/diffusion_pytorch_model.safetensors');
		truncateSync(file, readFileSync(file).byteLength - 10);
		const error = thrown(() => readModelFolder(dir));
		expect(error.code).toBe('MODEL_WEIGHTS_INVALID');
		expect(error.message).toContain(`The vae weights of ${dir} cannot be read`);
		expect(error.message).toContain(file);
		expect(error.message).toContain('but the file has only');
		expect(error.message).toContain('download it again');
	});

	it('reports an unreadable config.json as MODEL_CONFIG_INVALID', () => {
		const dir = makeModelFolder();
		writeFileSync(path.join(dir, 'vae/config.json'), '{"_class_name": ');
		const error = thrown(() => readModelFolder(dir));
		expect(error.code).toBe('MODEL_CONFIG_INVALID');
		expect(error.message).toContain(path.join(dir, 'vae/config.json'));
		expect(error.message).toContain('is not valid JSON');
	});

	it('reports an SDXL UNet before complaining about its pickles', () => {
		const dir = makeModelFolder({edit: (c) => void (c.unet.addition_embed_type = 'text_time')});
		rmSync(path.join(dir, 'unet/diffusion_pytorch_model.safetensors'));
		writeFileSync(path.join(dir, 'unet/diffusion_pytorch_model.bin'), 'pickle');
		const error = thrown(() => readModelFolder(dir));
		expect(error.code).toBe('MODEL_UNSUPPORTED');
		expect(error.message).toContain('"addition_embed_type" is "text_time"');
	});

	it('names an HF cache snapshot after its repository', () => {
		const root = tempDir();
		const snapshot = path.join(root, 'models--CompVis--stable-diffusion-v1-4', 'snapshots', 'abc123');
		mkdirSync(path.dirname(snapshot), {recursive: true});
		renameSync(makeModelFolder(), snapshot);
		expect(readModelFolder(snapshot).name).toBe('CompVis/stable-diffusion-v1-4');
	});
});

describe('readModelFolder: weight variants and shards', () => {
	const addFp16 = (dir: string, component: string, stem: string) =>
		copyFileSync(path.join(dir, component, `${stem}.safetensors`), path.join(dir, component, `${stem}.fp16.safetensors`));

	it('prefers the plain files, or fp16 when asked', () => {
		const dir = makeModelFolder();
		addFp16(dir, 'unet', 'diffusion_pytorch_model');
		addFp16(dir, 'text_encoder', 'model');
		expect(readModelFolder(dir).unet.weights[0].location).toBe('unet/diffusion_pytorch_model.safetensors');
		const fp16 = readModelFolder(dir, {variant: 'fp16'});
		expect(fp16.unet.weights[0].location).toBe('unet/diffusion_pytorch_model.fp16.safetensors');
		expect(fp16.textEncoder.weights[0].location).toBe('text_encoder/model.fp16.safetensors');
		// vae has no fp16 copy: the plain file, with a note
		expect(fp16.vae.weights[0].location).toBe('vae/diffusion_pytorch_model.safetensors');
		expect(fp16.warnings).toEqual([`vae/ in ${dir} has no fp16 weights; using vae/diffusion_pytorch_model.safetensors instead.`]);
	});

	it('uses the fp16 file when it is the only one', () => {
		const dir = makeModelFolder();
		addFp16(dir, 'vae', 'diffusion_pytorch_model');
		rmSync(path.join(dir, 'vae/diffusion_pytorch_model.safetensors'));
		const model = readModelFolder(dir);
		expect(model.vae.weights[0].location).toBe('vae/diffusion_pytorch_model.fp16.safetensors');
		expect(model.warnings).toEqual([]);
	});

	const shard = (dir: string) => {
		rmSync(path.join(dir, 'unet/diffusion_pytorch_model.safetensors'));
		const tensors = unetTensors();
		writeSafetensors(path.join(dir, 'unet/diffusion_pytorch_model-00001-of-00002.safetensors'), {'conv_in.weight': tensors['conv_in.weight']});
		writeSafetensors(path.join(dir, 'unet/diffusion_pytorch_model-00002-of-00002.safetensors'), {'conv_in.bias': tensors['conv_in.bias']});
		const index = {
			metadata: {total_size: 1184},
			weight_map: {
				'conv_in.bias': 'diffusion_pytorch_model-00002-of-00002.safetensors',
				'conv_in.weight': 'diffusion_pytorch_model-00001-of-00002.safetensors',
			},
		};
		writeFileSync(path.join(dir, 'unet/diffusion_pytorch_model.safetensors.index.json'), JSON.stringify(index));
	};

	it('reads a sharded save as one WeightFile per shard', () => {
		const dir = makeModelFolder();
		shard(dir);
		const {weights} = readModelFolder(dir).unet;
		expect(weights.map((w) => w.location)).toEqual([
			'unet/diffusion_pytorch_model-00001-of-00002.safetensors',
			'unet/diffusion_pytorch_model-00002-of-00002.safetensors',
		]);
		expect([...weights[0].index.tensors.keys()]).toEqual(['conv_in.weight']);
		expect([...weights[1].index.tensors.keys()]).toEqual(['conv_in.bias']);
	});

	it('reads a sharded fp16 save through its variant index', () => {
		const dir = makeModelFolder();
		shard(dir);
		renameSync(
			path.join(dir, 'unet/diffusion_pytorch_model.safetensors.index.json'),
			path.join(dir, 'unet/diffusion_pytorch_model.safetensors.index.fp16.json'),
		);
		expect(readModelFolder(dir, {variant: 'fp16'}).unet.weights).toHaveLength(2);
	});

	it('names a missing shard', () => {
		const dir = makeModelFolder();
		shard(dir);
		rmSync(path.join(dir, 'unet/diffusion_pytorch_model-00002-of-00002.safetensors'));
		const error = thrown(() => readModelFolder(dir));
		expect(error.code).toBe('MODEL_FILE_MISSING');
		expect(error.message).toContain('lists 2 shards, but 1 is missing: unet/diffusion_pytorch_model-00002-of-00002.safetensors');
	});

	it('names a tensor the index puts in the wrong shard', () => {
		const dir = makeModelFolder();
		shard(dir);
		const indexFile = path.join(dir, 'unet/diffusion_pytorch_model.safetensors.index.json');
		const index = JSON.parse(readFileSync(indexFile, 'utf8'));
		index.weight_map['conv_in.bias'] = 'diffusion_pytorch_model-00001-of-00002.safetensors';
		writeFileSync(indexFile, JSON.stringify(index));
		const error = thrown(() => readModelFolder(dir));
		expect(error.code).toBe('MODEL_WEIGHTS_INVALID');
		expect(error.message).toContain('puts tensor "conv_in.bias" in unet/diffusion_pytorch_model-00001-of-00002.safetensors, but that file has no such tensor');
	});

	it('says shards without their index are not loadable', () => {
		const dir = makeModelFolder();
		shard(dir);
		rmSync(path.join(dir, 'unet/diffusion_pytorch_model.safetensors.index.json'));
		const error = thrown(() => readModelFolder(dir));
		expect(error.code).toBe('MODEL_FILE_MISSING');
		expect(error.message).toContain('without its .safetensors.index.json');
	});
});

describe('modelIdentity', () => {
	it('is stable across reads and moves, and changes with configs, headers or weight bytes', () => {
		const dir = makeModelFolder();
		const base = readModelFolder(dir).modelIdentity;
		expect(readModelFolder(dir).modelIdentity).toBe(base);

		const moved = path.join(tempDir(), 'elsewhere');
		renameSync(dir, moved);
		expect(readModelFolder(moved).modelIdentity).toBe(base);

		// same header and size, other values: a fine-tune of the same base model
		writeSafetensors(path.join(moved, 'unet/diffusion_pytorch_model.safetensors'), {...unetTensors(), 'conv_in.weight': f32([8, 4, 3, 3], 0.25)});
		const finetuned = readModelFolder(moved).modelIdentity;
		expect(finetuned).not.toBe(base);

		// a config change that does not touch the weights
		const schedulerFile = path.join(moved, 'scheduler/scheduler_config.json');
		const scheduler = JSON.parse(readFileSync(schedulerFile, 'utf8'));
		writeFileSync(schedulerFile, JSON.stringify({...scheduler, steps_offset: 0}));
		const rescheduled = readModelFolder(moved).modelIdentity;
		expect(rescheduled).not.toBe(finetuned);

		appendFileSync(path.join(moved, 'tokenizer/merges.txt'), 'a b\n');
		expect(readModelFolder(moved).modelIdentity).not.toBe(rescheduled);
	});
});
