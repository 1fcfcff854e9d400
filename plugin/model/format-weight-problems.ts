import {FateZeroError} from '../errors/fatezero-error.js';
import type {WeightFile, WeightProblems} from './weight-problems.js';
import {WEIGHT_STEM, type ModelComponent} from './find-component-weights.js';

/** How many offending tensors of each kind a message lists before "and N more". */
const LIST = 5;

const CONFIG_FILE: Record<ModelComponent, string> = {
	unet: 'unet/config.json',
	vae: 'vae/config.json',
	text_encoder: 'text_encoder/config.json',
};

// What unused tensors usually mean, per component.
const EXTRA_HINT: Record<ModelComponent, string> = {
	unet: 'is this an SD-1.x UNet? SDXL UNets carry add_embedding.*, and ControlNet, adapter or LoRA saves carry layers of their own',
	vae: 'is this an SD-1.x AutoencoderKL VAE?',
	text_encoder: 'is this a CLIPTextModel? A full CLIPModel also carries vision_model.* and projections',
};

const shape = (dims: readonly number[]) => `[${dims.join(', ')}]`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const more = (n: number) => (n > LIST ? ` (and ${n - LIST} more)` : '');

/**
 * One MODEL_WEIGHTS_MISMATCH for everything a WeightBinder found wrong with one component, or
 * null when nothing is. `weights` (optional) names the file each mismatched tensor lives in,
 * which matters for fp16 variants and shards; without it the standard file name is shown.
 */
export const formatWeightProblems = (
	problems: WeightProblems,
	component: ModelComponent,
	folder: string,
	weights?: readonly WeightFile[],
): FateZeroError | null => {
	const {missing, mismatched, extra} = problems;
	if (missing.length + mismatched.length + extra.length === 0) return null;
	const config = CONFIG_FILE[component];
	const fileOf = (key: string) =>
		weights?.find((file) => file.index.tensors.has(key))?.location ?? `${component}/${WEIGHT_STEM[component]}.safetensors`;

	const lines: string[] = [];
	for (const m of mismatched.slice(0, LIST)) {
		const sameShape = shape(m.actual) === shape(m.expected);
		lines.push(
			sameShape
				? `${fileOf(m.key)}: tensor ${m.key} is ${m.dtype}, but weights must be F32, F16 or BF16`
				: `${fileOf(m.key)}: tensor ${m.key} has shape ${shape(m.actual)} but ${config} implies ${shape(m.expected)}`,
		);
	}
	if (mismatched.length > LIST) lines.push(`and ${mismatched.length - LIST} more tensors with the wrong shape or dtype`);
	if (missing.length > 0) {
		const first = missing.slice(0, LIST).map(({keys, shape: dims}) => {
			const alternatives = keys.length > 1 ? ` (or ${keys.slice(1).join(', ')})` : '';
			return `${keys[0]} ${shape(dims)}${alternatives}`;
		});
		lines.push(`missing ${plural(missing.length, 'tensor')}, first: ${first.join(', ')}${more(missing.length)}`);
	}
	if (extra.length > 0) {
		lines.push(`${plural(extra.length, 'tensor')} no layer uses, first: ${extra.slice(0, LIST).join(', ')}${more(extra.length)} (${EXTRA_HINT[component]})`);
	}

	const todo =
		missing.length + mismatched.length > 0
			? `The weights do not fit the config beside them: ${component}/ mixes files from different models or revisions, or a download is incomplete. Download ${component}/ again (config.json and weights from the same revision), or pass --model with a complete Stable Diffusion 1.x folder.`
			: `Pass --model with a plain Stable Diffusion 1.x folder; merge LoRAs or other add-ons into the weights (or leave them out) before converting.`;
	return new FateZeroError(
		'MODEL_WEIGHTS_MISMATCH',
		`The ${component} weights in ${folder} do not match ${config}:\n${lines.map((line) => `  - ${line}`).join('\n')}\n${todo}`,
	);
};

/** Throws formatWeightProblems' error when there is one. */
export const throwIfWeightProblems = (
	problems: WeightProblems,
	component: ModelComponent,
	folder: string,
	weights?: readonly WeightFile[],
): void => {
	const error = formatWeightProblems(problems, component, folder, weights);
	if (error) throw error;
};
