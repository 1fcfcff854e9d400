import path from 'node:path';
import {generateRandomModel} from '../model/generate-random-model.js';

export type ResolvedModelDir = {
	dir: string;
	/** True when no model was configured and the generated random-weight model is used. */
	generated: boolean;
	/** What to tell the user about where the model came from. */
	notice: string;
};

/**
 * The model a command runs: `--model`, else FATEZERO_MODEL, else a tiny random-weight model the
 * project generates under the cache (results are noise-like; the notice says so).
 */
export const resolveModelDir = (option: string | undefined, cacheDir: string): ResolvedModelDir => {
	const configured = option ?? process.env.FATEZERO_MODEL;
	if (configured) {
		const dir = path.resolve(configured);
		return {dir, generated: false, notice: `Model: ${dir}${option ? '' : ' (from FATEZERO_MODEL)'}`};
	}
	const {dir, alreadyExisted} = generateRandomModel({dir: path.join(cacheDir, 'models', 'tiny-random-sd'), architecture: 'tiny'});
	return {
		dir,
		generated: true,
		notice: [
			`No model configured (--model or FATEZERO_MODEL): using the tiny random-weight model ${alreadyExisted ? 'generated earlier' : 'just generated'} at ${dir}.`,
			'Its images are noise-like; point --model or FATEZERO_MODEL at a Stable Diffusion 1.x folder (diffusers layout, safetensors) for real results.',
		].join('\n'),
	};
};
