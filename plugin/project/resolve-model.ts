import {existsSync} from 'node:fs';
import path from 'node:path';
import {FateZeroError} from '../errors/fatezero-error.js';
import {withKeyLock} from '../frame-cache/key-lock.js';
import {generateRandomModel} from '../model-generator/generate-random-model.js';
import {GENERATED_TINY_MODEL, PROJECT_SETTINGS, resolveProjectSettings, type Setting} from './project-settings.js';
import {PROJECT_CONFIG_FILE} from './project-config-file.js';

export type ResolvedModel = {
	/** The model folder to load. */
	dir: string;
	/** True for the generated random-weight model (opted in with `generated:tiny`): its images are noise. */
	generated: boolean;
	/** One line for the user: which model and where the setting came from. */
	notice: string;
};

/** The folder the tiny random-weight model is generated into, inside the store. */
export const generatedModelDir = (cacheDir: string): string => path.join(cacheDir, 'models', 'tiny-random-sd');

export const NO_MODEL_ADVICE = [
	`Configure a Stable Diffusion 1.x folder (diffusers layout, safetensors) in one of these ways:`,
	`  ${PROJECT_SETTINGS.model.flag} DIR on the command`,
	`  ${PROJECT_SETTINGS.model.env}=DIR in the environment`,
	`  {"model": "DIR"} in ${PROJECT_CONFIG_FILE} at the project root`,
	`(For pipeline tests only: ${PROJECT_SETTINGS.model.flag} ${GENERATED_TINY_MODEL} uses a generated random-weight model whose frames are noise.)`,
].join('\n');

/**
 * The model a job or command runs. Nothing configured is an error (MODEL_NOT_CONFIGURED): a
 * user's clip is never silently edited with random weights. `generated:tiny` is the explicit
 * opt-in to the generated test model; processes asking for it at once generate it once.
 */
export const resolveModel = async (model: Pick<Setting<string | null>, 'value' | 'origin'>, cacheDir: string, options: {signal?: AbortSignal} = {}): Promise<ResolvedModel> => {
	if (model.value === null) {
		throw new FateZeroError('MODEL_NOT_CONFIGURED', `No model is configured, so nothing was computed or written.\n${NO_MODEL_ADVICE}`);
	}
	if (model.value !== GENERATED_TINY_MODEL) {
		const dir = path.resolve(model.value);
		return {dir, generated: false, notice: `Model: ${dir} (from ${model.origin})`};
	}
	const target = generatedModelDir(cacheDir);
	// Processes starting together would each generate into the same folder (rm, then rename)
	// under the feet of one already reading it: one generator at a time.
	const {dir, alreadyExisted} = existsSync(path.join(target, 'model_index.json'))
		? generateRandomModel({dir: target, architecture: 'tiny'})
		: await withKeyLock(`${target}.lock`, async () => generateRandomModel({dir: target, architecture: 'tiny'}), {signal: options.signal});
	return {
		dir,
		generated: true,
		notice: `Model: the generated tiny random-weight model (${alreadyExisted ? 'generated earlier' : 'just generated'} at ${dir}; from ${model.origin}). Its frames are noise: use it to test the pipeline, not for real edits.`,
	};
};

/**
 * The model of a one-shot command (`edit`, `doctor`, `prompts`): `option` (its --model), else
 * the project's settings (FATEZERO_MODEL, fatezero.config.json). Nothing configured is an error.
 */
export const resolveCommandModel = (option: string | undefined, cacheDir: string): ResolvedModel => {
	const {model} = resolveProjectSettings({flags: option === undefined ? {} : {model: option}});
	if (model.value === null) throw new FateZeroError('MODEL_NOT_CONFIGURED', `No model is configured.\n${NO_MODEL_ADVICE}`);
	if (model.value !== GENERATED_TINY_MODEL) return {dir: model.value, generated: false, notice: `Model: ${model.value} (from ${model.origin})`};
	const {dir, alreadyExisted} = generateRandomModel({dir: generatedModelDir(cacheDir), architecture: 'tiny'});
	return {
		dir,
		generated: true,
		notice: `Model: the generated tiny random-weight model (${alreadyExisted ? 'generated earlier' : 'just generated'} at ${dir}; from ${model.origin}). Its images are noise-like: use it to test the pipeline, not for real edits.`,
	};
};
