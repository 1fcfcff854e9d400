import {existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {buildTextEncoderGraph} from '../graph/text-encoder-graph.js';
import {buildUnetGraph} from '../graph/unet-graph.js';
import {buildVaeDecoderGraph} from '../graph/vae-decoder-graph.js';
import {buildVaeEncoderGraph} from '../graph/vae-encoder-graph.js';
import {GraphBuilder} from '../graph/onnx-graph-builder.js';
import {WeightBinder, type WeightRequest} from '../graph/weight-binder.js';
import type {LayerContext} from '../graph/common-layers.js';
import {parseTextEncoderConfig} from '../model/parse-text-encoder-config.js';
import {parseUnetConfig} from '../model/parse-unet-config.js';
import {parseVaeConfig} from '../model/parse-vae-config.js';
import {RANDOM_MODEL_CONFIGS, RANDOM_MODEL_SCHEDULER_CONFIG, type RandomModelArchitecture} from '../model/random-model-architectures.js';
import {randomWeightValues} from '../model/random-weights.js';
import {writeSafetensors, type TensorToWrite} from '../model/safetensors-file.js';
import {buildSyntheticClipVocab} from './synthetic-clip-vocab.js';
import {floatToHalf} from '../model/tensor-dtype.js';

export type GenerateRandomModelOptions = {
	/** Folder to create (diffusers layout). */
	dir: string;
	/** 'tiny' for tests and the no-model demo, 'sd15' for full-size benchmarks. Default 'tiny'. */
	architecture?: RandomModelArchitecture;
	/** Seed of every weight. Default 0. */
	seed?: number;
	/** Weight dtype in the safetensors files. Default 'F32'. */
	dtype?: 'F32' | 'F16';
};

const MARKER = 'fatezero-random-model.json';

/** Every weight a component's graphs ask for, with its shape (the builders define the layout). */
const collectRequests = (builds: ((ctx: LayerContext) => void)[]): WeightRequest[] => {
	const b = new GraphBuilder('collect');
	const w = new WeightBinder(b, null, 'float32');
	for (const build of builds) build({b, w, computeType: 'float32'});
	return w.requests;
};

const toBytes = (values: Float32Array, dtype: 'F32' | 'F16'): Uint8Array => {
	if (dtype === 'F32') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
	const halves = new Uint16Array(values.length);
	for (let i = 0; i < values.length; i++) halves[i] = floatToHalf(values[i]);
	return new Uint8Array(halves.buffer);
};

const writeWeights = (file: string, requests: WeightRequest[], seed: number, dtype: 'F32' | 'F16', extra: Record<string, TensorToWrite> = {}) => {
	const tensors: Record<string, TensorToWrite> = {...extra};
	for (const {keys, shape} of requests) {
		tensors[keys[0]] = {dtype, shape, bytes: () => toBytes(randomWeightValues(seed, keys[0], shape), dtype)};
	}
	writeSafetensors(file, tensors, {format: 'pt'});
};

const writeJson = (file: string, value: unknown) => {
	mkdirSync(path.dirname(file), {recursive: true});
	writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
};

/**
 * Writes a Stable Diffusion 1.x model folder in diffusers layout with seeded random weights:
 * the same key names and configs a real download has, so every code path (reader, validation,
 * graphs, pipeline) runs on it; images come out noise-like. Idempotent: a folder already
 * generated with the same options is kept (`alreadyExisted: true`). Written into a temporary
 * sibling and renamed, so an interrupted run leaves no half-written model.
 */
export const generateRandomModel = (options: GenerateRandomModelOptions): {dir: string; alreadyExisted: boolean} => {
	const dir = path.resolve(options.dir);
	const params = {architecture: options.architecture ?? 'tiny', seed: options.seed ?? 0, dtype: options.dtype ?? 'F32', version: 1};
	const marker = path.join(dir, MARKER);
	if (existsSync(marker) && readFileSync(marker, 'utf8') === JSON.stringify(params)) return {dir, alreadyExisted: true};

	const raw = RANDOM_MODEL_CONFIGS[params.architecture];
	const {vocab, merges} = buildSyntheticClipVocab();
	const textEncoderRaw = {...raw.textEncoder, vocab_size: Object.keys(vocab).length};
	const unet = parseUnetConfig(raw.unet, 'unet/config.json').config;
	const vae = parseVaeConfig(raw.vae, 'vae/config.json').config;
	const textEncoder = parseTextEncoderConfig(textEncoderRaw, 'text_encoder/config.json').config;

	const temp = `${dir}.tmp-${process.pid}-${Date.now()}`;
	rmSync(temp, {recursive: true, force: true});
	try {
		writeJson(path.join(temp, 'model_index.json'), {
			_class_name: 'StableDiffusionPipeline',
			_diffusers_version: '0.11.1',
			feature_extractor: [null, null],
			requires_safety_checker: false,
			safety_checker: [null, null],
			scheduler: ['diffusers', 'DDIMScheduler'],
			text_encoder: ['transformers', 'CLIPTextModel'],
			tokenizer: ['transformers', 'CLIPTokenizer'],
			unet: ['diffusers', 'UNet2DConditionModel'],
			vae: ['diffusers', 'AutoencoderKL'],
		});
		writeJson(path.join(temp, 'scheduler/scheduler_config.json'), RANDOM_MODEL_SCHEDULER_CONFIG);
		writeJson(path.join(temp, 'tokenizer/vocab.json'), vocab);
		writeFileSync(path.join(temp, 'tokenizer/merges.txt'), `#version: 0.2\n${merges.join('\n')}\n`);
		writeJson(path.join(temp, 'tokenizer/tokenizer_config.json'), {
			bos_token: '<|startoftext|>',
			eos_token: '<|endoftext|>',
			pad_token: '<|endoftext|>',
			unk_token: '<|endoftext|>',
			model_max_length: 77,
			tokenizer_class: 'CLIPTokenizer',
		});
		writeJson(path.join(temp, 'text_encoder/config.json'), textEncoderRaw);
		writeJson(path.join(temp, 'unet/config.json'), raw.unet);
		writeJson(path.join(temp, 'vae/config.json'), raw.vae);

		const positionIds: TensorToWrite = {
			dtype: 'I64',
			shape: [1, 77],
			bytes: new Uint8Array(BigInt64Array.from({length: 77}, (_, i) => BigInt(i)).buffer),
		};
		writeWeights(
			path.join(temp, 'text_encoder/model.safetensors'),
			collectRequests([(ctx) => buildTextEncoderGraph(ctx, textEncoder)]),
			params.seed,
			params.dtype,
			// real CLIP checkpoints carry this buffer; keep it so the reader's ignore rule is exercised
			{'text_model.embeddings.position_ids': positionIds},
		);
		writeWeights(
			path.join(temp, 'vae/diffusion_pytorch_model.safetensors'),
			collectRequests([(ctx) => buildVaeEncoderGraph(ctx, vae), (ctx) => buildVaeDecoderGraph(ctx, vae)]),
			params.seed + 1,
			params.dtype,
		);
		writeWeights(
			path.join(temp, 'unet/diffusion_pytorch_model.safetensors'),
			collectRequests([(ctx) => buildUnetGraph(ctx, unet, {referenceFramesMinChannels: null})]),
			params.seed + 2,
			params.dtype,
		);
		writeFileSync(path.join(temp, MARKER), JSON.stringify(params));
		mkdirSync(path.dirname(dir), {recursive: true});
		try {
			renameSync(temp, dir);
		} catch (error) {
			const code = (error as NodeJS.ErrnoException).code;
			if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
			// another process published the same model first: use theirs, never pull it from under them
			if (existsSync(marker) && readFileSync(marker, 'utf8') === JSON.stringify(params)) {
				rmSync(temp, {recursive: true, force: true});
				return {dir, alreadyExisted: true};
			}
			// an incomplete or different folder: move it aside, then publish ours
			const aside = `${dir}.trash-${process.pid}-${Date.now()}`;
			renameSync(dir, aside);
			renameSync(temp, dir);
			rmSync(aside, {recursive: true, force: true});
		}
	} catch (error) {
		rmSync(temp, {recursive: true, force: true});
		throw error;
	}
	return {dir, alreadyExisted: false};
};
