import {ENGINE_DEFAULTS} from '../clip/engine-defaults.js';
import {FateZeroError} from '../errors/fatezero-error.js';
import type {FateZeroEngine} from './load-fatezero.js';
import type {FateZeroTarget} from './fatezero-target.js';
import {buildPromptEdit} from './prompt-to-prompt/build-prompt-edit.js';
import type {BlendWords} from './prompt-to-prompt/blend-words.js';
import type {ControllerOption} from './prompt-to-prompt/choose-controller.js';
import type {ReweightOptions} from './prompt-to-prompt/equalizer.js';
import type {CrossReplaceSteps, StepWindow} from './prompt-to-prompt/time-windows.js';

/** One editing prompt and its official p2p_config knobs. */
export type FateZeroEdit = {
	prompt: string;
	/** cross_replace_steps. Default 0.8. */
	crossReplace?: CrossReplaceSteps;
	/** self_replace_steps. Default 0.8. */
	selfReplace?: StepWindow;
	/** eq_params {words, values}. */
	reweight?: ReweightOptions | null;
	/** blend_words [[source words], [target words]]. */
	blendWords?: BlendWords | null;
	/** blend_th[0]. Default 0.3. */
	blendThreshold?: number;
	/** blend_self_attention. Default: true when blend words are given. */
	blendSelfAttention?: boolean;
	/** blend_latents. Default false. */
	latentBlend?: boolean;
	/** 'auto' (official: Replace for equal word counts, else Refine). */
	controller?: ControllerOption;
};

/** Each edit's controller data (make_controller, spec §2.1), checked, with the warnings the official code would stay silent about. */
export const buildFateZeroTargets = (
	engine: Pick<FateZeroEngine, 'tokenizer'>,
	sourcePrompt: string,
	edits: FateZeroEdit[],
	steps: number,
): {targets: FateZeroTarget[]; warnings: string[]} => {
	const warnings: string[] = [];
	const targets = edits.map((edit): FateZeroTarget => {
		const promptEdit = buildPromptEdit({
			tokenizer: engine.tokenizer,
			source: sourcePrompt,
			target: edit.prompt,
			crossReplace: edit.crossReplace ?? ENGINE_DEFAULTS.crossReplace,
			selfReplace: edit.selfReplace ?? ENGINE_DEFAULTS.selfReplace,
			reweight: edit.reweight ?? null,
			blendWords: edit.blendWords ?? null,
			controller: edit.controller,
			steps,
		});
		warnings.push(...promptEdit.warnings.map((w) => `"${edit.prompt}": ${w}`));
		const blendThreshold = edit.blendThreshold ?? ENGINE_DEFAULTS.blendThreshold;
		if (!Number.isFinite(blendThreshold)) throw new FateZeroError('INVALID_OPTION', `blendThreshold is ${blendThreshold}; give a number (0.3 is the official default; ≥ 1 keeps the source everywhere).`);
		return {
			prompt: edit.prompt,
			edit: promptEdit,
			blendThreshold,
			blendSelfAttention: edit.blendSelfAttention ?? (edit.blendWords ?? null) !== null,
			latentBlend: edit.latentBlend ?? ENGINE_DEFAULTS.latentBlend,
		};
	});
	return {targets, warnings};
};
