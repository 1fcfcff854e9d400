import {existsSync, readFileSync, readdirSync, statSync} from 'node:fs';
import path from 'node:path';
import {FateZeroError} from '../errors/fatezero-error.js';
import type {WeightFile} from './weight-problems.js';
import type {ClipTextConfig, SchedulerConfig, UnetConfig, VaeConfig} from './component-configs.js';
import {findComponentWeights, WEIGHT_STEM, type ComponentWeightFiles, type ModelComponent, type WeightVariant} from './find-component-weights.js';
import {computeModelIdentity} from './model-identity.js';
import {
	CONVERT_PICKLES,
	DOWNLOAD_SAFETENSORS,
	PICKLE_FILE,
	SD1_LAYOUT,
	SINGLE_FILE_CHECKPOINT,
	convertSingleFile,
} from './model-folder-hints.js';
import {parseComponentConfigs} from './parse-component-configs.js';
import {readComponentWeights} from './read-component-weights.js';

export type ReadModelFolderOptions = {
	/** 'fp16' prefers `*.fp16.safetensors`; the default prefers the plain files. Either falls back to the other. */
	variant?: WeightVariant;
};

export type ModelFolder = {
	/** Absolute path of the model folder. */
	dir: string;
	/** For logs and UIs: the folder name, or "org/name" for a Hugging Face cache snapshot. */
	name: string;
	/** model_index.json as written (diffusers pipeline class and component list). */
	modelIndex: Record<string, unknown>;
	unet: {config: UnetConfig; weights: WeightFile[]};
	vae: {config: VaeConfig; weights: WeightFile[]};
	textEncoder: {config: ClipTextConfig; weights: WeightFile[]};
	/** Absolute path of tokenizer/ (vocab.json and merges.txt are known to exist). */
	tokenizerDir: string;
	scheduler: {config: SchedulerConfig};
	/** SHA-256 hex over configs, tokenizer files and safetensors headers: the key for graph and inversion caches. */
	modelIdentity: string;
	/** Things that work but may surprise (clip_sample true, a fallback variant, ...). */
	warnings: string[];
};

const WEIGHT_COMPONENTS: readonly ModelComponent[] = ['unet', 'vae', 'text_encoder'];
const CONFIG_FILES = {
	unet: 'unet/config.json',
	vae: 'vae/config.json',
	text_encoder: 'text_encoder/config.json',
	scheduler: 'scheduler/scheduler_config.json',
} as const;
const TOKENIZER_FILES = ['tokenizer/vocab.json', 'tokenizer/merges.txt'];

const FOLDER_MISSING_TODO = `Pass --model DIR or set FATEZERO_MODEL to a Stable Diffusion 1.x folder in diffusers layout (${SD1_LAYOUT})`;

/** The folder exists and is a folder; a single-file checkpoint gets conversion advice. */
const checkFolder = (dir: string) => {
	if (!existsSync(dir)) {
		throw new FateZeroError('MODEL_FOLDER_MISSING', `Model folder ${dir} does not exist. ${FOLDER_MISSING_TODO}.`);
	}
	if (statSync(dir).isDirectory()) return;
	if (SINGLE_FILE_CHECKPOINT.test(dir)) {
		const pickle = PICKLE_FILE.test(dir);
		throw new FateZeroError(
			pickle ? 'MODEL_WEIGHTS_PICKLE' : 'MODEL_UNSUPPORTED',
			`${dir} is a single-file checkpoint${pickle ? ' (a PyTorch pickle)' : ''}; remotion-fatezero needs a diffusers model folder (${SD1_LAYOUT}) with safetensors weights. ${convertSingleFile(dir)}`,
		);
	}
	throw new FateZeroError('MODEL_FOLDER_MISSING', `Model path ${dir} is a file, not a folder. ${FOLDER_MISSING_TODO}.`);
};

const readJson = (dir: string, relative: string): unknown => {
	const file = path.join(dir, relative);
	try {
		return JSON.parse(readFileSync(file, 'utf8'));
	} catch (error) {
		throw new FateZeroError(
			'MODEL_CONFIG_INVALID',
			`${file} is not valid JSON (${(error as Error).message}). Download it again from the model's repository.`,
			{cause: error},
		);
	}
};

const describeMissingWeights = (component: ModelComponent, found: Extract<ComponentWeightFiles, {kind: 'none'}>) => {
	const expected = `${component}/${WEIGHT_STEM[component]}.safetensors`;
	if (found.otherSafetensors.length === 0) return expected;
	const shards = found.otherSafetensors.some((f) => /-\d+-of-\d+\.safetensors$/.test(f));
	return `${expected} (found ${found.otherSafetensors.join(', ')}${shards ? ' without its .safetensors.index.json' : ', a name diffusers does not load'})`;
};

/** One MODEL_FILE_MISSING for everything absent, so the user fixes the folder in one go. */
const checkFilesPresent = (dir: string, weights: Record<ModelComponent, ComponentWeightFiles>) => {
	const missing: string[] = [];
	if (!existsSync(path.join(dir, 'model_index.json'))) missing.push('model_index.json');
	const folderMissing = new Set<string>();
	for (const folder of ['unet', 'vae', 'text_encoder', 'tokenizer', 'scheduler']) {
		if (!existsSync(path.join(dir, folder))) {
			folderMissing.add(folder);
			missing.push(`${folder}/ (the whole folder)`);
		}
	}
	const present = (relative: string) => folderMissing.has(relative.split('/')[0]) || existsSync(path.join(dir, relative));
	for (const relative of [...Object.values(CONFIG_FILES), ...TOKENIZER_FILES]) {
		if (!present(relative)) missing.push(relative);
	}
	for (const component of WEIGHT_COMPONENTS) {
		const found = weights[component];
		if (found.kind === 'none' && !folderMissing.has(component)) missing.push(describeMissingWeights(component, found));
	}
	if (missing.length === 0) return;

	const hints: string[] = [];
	const topLevel = readdirSync(dir);
	const checkpoints = topLevel.filter((name) => SINGLE_FILE_CHECKPOINT.test(name));
	if (checkpoints.length > 0) {
		const file = path.join(dir, checkpoints[0]);
		hints.push(`The folder holds ${checkpoints.join(', ')}: a single-file checkpoint is not a diffusers folder. ${convertSingleFile(file)}`);
	}
	if (topLevel.includes('snapshots')) {
		hints.push(`This looks like a Hugging Face cache entry: pass ${path.join(dir, 'snapshots', '<revision>')} instead.`);
	}
	const pickled = WEIGHT_COMPONENTS.filter((c) => weights[c].kind === 'pickle');
	if (pickled.length > 0) hints.push(`${pickled.join(', ')} ${pickled.length === 1 ? 'has' : 'have'} only PyTorch pickle weights, which are not read either: safetensors is required.`);
	if (!missing.includes('model_index.json')) {
		let className: unknown;
		try {
			className = (readJson(dir, 'model_index.json') as {_class_name?: unknown} | null)?._class_name;
		} catch {
			// a broken model_index.json is reported once the files are complete
		}
		if (typeof className === 'string' && className !== 'StableDiffusionPipeline') {
			hints.push(`model_index.json says this is a ${className}; FateZero needs a StableDiffusionPipeline (SD 1.x).`);
		}
	}
	throw new FateZeroError(
		'MODEL_FILE_MISSING',
		`Model folder ${dir} is missing ${missing.length === 1 ? '1 file' : `${missing.length} files`}: ${missing.join(', ')}. ${hints.join(' ')}${hints.length > 0 ? ' ' : ''}A Stable Diffusion 1.x folder in diffusers layout has ${SD1_LAYOUT}, each with its config and safetensors weights: download the complete model again, e.g. \`huggingface-cli download CompVis/stable-diffusion-v1-4 --include "*.safetensors" "*.json" "*.txt" --local-dir DIR\`.`,
	);
};

const checkNoPickles = (dir: string, weights: Record<ModelComponent, ComponentWeightFiles>) => {
	const pickled = WEIGHT_COMPONENTS.flatMap((component) => {
		const found = weights[component];
		return found.kind === 'pickle' ? [`${component} (${found.files.join(', ')})`] : [];
	});
	if (pickled.length === 0) return;
	throw new FateZeroError(
		'MODEL_WEIGHTS_PICKLE',
		`Model folder ${dir} has only PyTorch pickle weights for ${pickled.join(', ')}. remotion-fatezero reads safetensors only: pickles can run code when loaded and onnxruntime cannot read their tensors in place. Either ${DOWNLOAD_SAFETENSORS}, or ${CONVERT_PICKLES.replaceAll('DIR', dir)}.`,
	);
};

// Hugging Face cache: .../models--org--name/snapshots/<hash>, where the hash says nothing.
const displayName = (dir: string): string => {
	const parent = path.dirname(dir);
	const repo = path.basename(path.dirname(parent));
	if (path.basename(parent) === 'snapshots' && repo.startsWith('models--')) return repo.slice('models--'.length).replaceAll('--', '/');
	return path.basename(dir);
};

/**
 * Reads and validates a Stable Diffusion 1.x folder in diffusers layout without loading any
 * weights: configs are parsed and cross-checked, weights are located (variant, shards) and their
 * safetensors headers read, so every problem a user can fix surfaces here with the file named.
 * Checks go from coarse to fine (folder, files, configs, pickles, headers) so the first error is
 * the most useful one: an SDXL folder with .bin weights is reported as SDXL, not as "convert".
 */
export const readModelFolder = (dir: string, options: ReadModelFolderOptions = {}): ModelFolder => {
	const modelDir = path.resolve(dir);
	checkFolder(modelDir);
	const variant = options.variant ?? null;
	const warnings: string[] = [];
	const weightFiles = {} as Record<ModelComponent, ComponentWeightFiles>;
	for (const component of WEIGHT_COMPONENTS) {
		const {found, warnings: notes} = findComponentWeights(modelDir, component, variant);
		weightFiles[component] = found;
		warnings.push(...notes);
	}
	checkFilesPresent(modelDir, weightFiles);

	const modelIndex = readJson(modelDir, 'model_index.json');
	if (typeof modelIndex !== 'object' || modelIndex === null || Array.isArray(modelIndex)) {
		throw new FateZeroError(
			'MODEL_CONFIG_INVALID',
			`${path.join(modelDir, 'model_index.json')} is not a JSON object. Download it again from the model's repository.`,
		);
	}
	const raw = (relative: string) => ({raw: readJson(modelDir, relative), path: path.join(modelDir, relative)});
	const {warnings: configWarnings, ...configs} = parseComponentConfigs({
		unet: raw(CONFIG_FILES.unet),
		vae: raw(CONFIG_FILES.vae),
		textEncoder: raw(CONFIG_FILES.text_encoder),
		scheduler: raw(CONFIG_FILES.scheduler),
	});
	warnings.push(...configWarnings);
	checkNoPickles(modelDir, weightFiles);

	const weights = {} as Record<ModelComponent, WeightFile[]>;
	for (const component of WEIGHT_COMPONENTS) {
		weights[component] = readComponentWeights(modelDir, component, weightFiles[component] as Extract<ComponentWeightFiles, {kind: 'single' | 'sharded'}>);
	}
	const tokenizerDir = path.join(modelDir, 'tokenizer');
	return {
		dir: modelDir,
		name: displayName(modelDir),
		modelIndex: modelIndex as Record<string, unknown>,
		unet: {config: configs.unet, weights: weights.unet},
		vae: {config: configs.vae, weights: weights.vae},
		textEncoder: {config: configs.textEncoder, weights: weights.text_encoder},
		tokenizerDir,
		scheduler: {config: configs.scheduler},
		modelIdentity: computeModelIdentity(modelDir, configs, weights, tokenizerDir),
		warnings,
	};
};
