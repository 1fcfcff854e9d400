import {FateZeroError} from '../../errors/fatezero-error.js';
import {blendAlphaRows, type BlendWords} from './blend-words.js';
import {chooseController, type ControllerKind, type ControllerOption} from './choose-controller.js';
import {equalizer, type ReweightOptions} from './equalizer.js';
import {promptTruncationWarnings, type PromptTokenizer} from './prompt-words.js';
import {refinementMapper} from './refinement-mapper.js';
import {replacementMapper} from './replacement-mapper.js';
import {crossReplaceAlpha, selfReplaceWindow, type CrossReplaceSteps, type StepWindow} from './time-windows.js';

export type PromptEditOptions = {
	tokenizer: PromptTokenizer;
	/** The prompt the video was inverted with (FateZero's dataset_config.prompt). */
	source: string;
	/** The editing prompt. */
	target: string;
	/** FateZero's cross_replace_steps: 0.8, [0, 0.8] or {default_: 0.8, jeep: [0.2, 0.6]}. */
	crossReplace: CrossReplaceSteps;
	/** FateZero's self_replace_steps: 0.8 or [0, 0.8]. */
	selfReplace: StepWindow;
	/** FateZero's eq_params on the target's words; null/undefined: no Reweight. */
	reweight?: ReweightOptions | null;
	/** FateZero's blend_words [[source words], [target words]]; null/undefined: no blend mask. */
	blendWords?: BlendWords | null;
	/** 'auto' (default): Replace for equal word counts, else Refine. */
	controller?: ControllerOption;
	/** DDIM steps N of the edit. */
	steps: number;
};

/** The cross-attention edit of the controller (fatezero-spec §2.4). */
export type CrossAttentionEdit =
	| {
			kind: 'replace';
			/** seq_aligner.get_replacement_mapper: A_new = A_src · M. // [77, 77] row = source token, column = target token */
			mapper: Float32Array;
	  }
	| {
			kind: 'refine';
			/** Source token per target token, -1 for none. // [77] */
			mapper: Int32Array;
			/** A_new = A_src[..., mapper] ⊙ alphas + A ⊙ (1 − alphas). // [77] */
			alphas: Float32Array;
	  };

/** Everything the engine needs to fuse one target's attention with the inversion's. */
export type PromptEdit = {
	controller: ControllerKind;
	/** Why this controller (word counts), for logs. */
	controllerReason: string;
	crossEdit: CrossAttentionEdit;
	/** AttentionReweight's factors per target token, or null without reweight. // [77] */
	equalizer: Float32Array | null;
	/** 1 = use the edited source map for that step and token. // [N+1, 77] (official [N+1, 1, 1, 1, 77]) */
	crossReplaceAlpha: Float32Array;
	/** Denoising steps [start, end) that take the inversion's self-attention (num_self_replace). */
	numSelfReplace: [number, number];
	/** SpatialBlender.alpha_layers, row 0 source, row 1 target, or null without blend words. // [2, 77] */
	blendAlphaRows: Float32Array | null;
	steps: number;
	/** Token positions per prompt (77 for SD-1.x): the last dimension of every tensor above. */
	tokenLength: number;
	/**
	 * What the official code passes over silently: reweight/blend/window words not in their prompt,
	 * unpaired reweight values, prompts truncated to 75 tokens.
	 */
	warnings: string[];
};

const checkPrompt = (option: 'source' | 'target', value: unknown): string => {
	if (typeof value !== 'string') {
		throw new FateZeroError('INVALID_OPTION', `${option} is ${JSON.stringify(value) ?? String(value)}; it must be the ${option} prompt as a string.`);
	}
	return value;
};

/**
 * make_controller's data for one target (fatezero-spec §2.1–2.5), computed up front and checked:
 * the controller kind, its mapper, the reweight equalizer, the cross-attention time alpha, the
 * self-attention window and the blend word rows. Bad windows, steps, words or values throw
 * FateZeroError 'INVALID_OPTION' naming the option and its value.
 */
export const buildPromptEdit = (options: PromptEditOptions): PromptEdit => {
	const {tokenizer, steps} = options;
	const source = checkPrompt('source', options.source);
	const target = checkPrompt('target', options.target);
	const reweight = options.reweight ?? null;
	const blendWords = options.blendWords ?? null;
	const choice = chooseController({source, target, controller: options.controller, reweight: reweight !== null});

	const warnings = promptTruncationWarnings(tokenizer, source, target);

	const numSelfReplace = selfReplaceWindow(steps, options.selfReplace);
	const cross = crossReplaceAlpha(tokenizer, target, steps, options.crossReplace);
	warnings.push(...cross.warnings);

	let equalizerValues: Float32Array | null = null;
	if (reweight !== null) {
		const result = equalizer(tokenizer, target, reweight);
		equalizerValues = result.values;
		warnings.push(...result.warnings);
	}

	let blendRows: Float32Array | null = null;
	if (blendWords !== null) {
		const result = blendAlphaRows(tokenizer, source, target, blendWords);
		blendRows = result.rows;
		warnings.push(...result.warnings);
	}

	const crossEdit: CrossAttentionEdit =
		choice.kind === 'replace'
			? {kind: 'replace', mapper: replacementMapper(tokenizer, source, target)}
			: {kind: 'refine', ...refinementMapper(tokenizer, source, target)};

	return {
		controller: choice.kind,
		controllerReason: choice.reason,
		crossEdit,
		equalizer: equalizerValues,
		crossReplaceAlpha: cross.alpha,
		numSelfReplace,
		blendAlphaRows: blendRows,
		steps,
		tokenLength: tokenizer.maxLength,
		warnings,
	};
};
