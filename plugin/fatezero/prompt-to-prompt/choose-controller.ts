import {FateZeroError} from '../../errors/fatezero-error.js';
import {wordCount} from './prompt-words.js';

/**
 * The descriptor's `controller` option. 'auto' is the official rule with FateZero's default
 * `is_replace_controller: true`; 'refine' is `is_replace_controller: false`; 'replace' insists on
 * Replace and fails when it cannot apply.
 */
export type ControllerOption = 'auto' | 'replace' | 'refine';

/** The cross-attention edit (fatezero-spec §2.4); Reweight wraps either when reweighting is given. */
export type ControllerKind = 'replace' | 'refine';

export type ControllerChoice = {
	kind: ControllerKind;
	/** AttentionReweight wraps the controller (eq_params given). */
	reweight: boolean;
	wordCountSource: number;
	wordCountTarget: number;
	/** Why this controller, in one sentence for logs and the prompts command. */
	reason: string;
};

export const CONTROLLER_OPTIONS: readonly ControllerOption[] = ['auto', 'replace', 'refine'];

/**
 * The official choice (p2p_ddim_spatial_temporal.py → make_controller, spec §2.1):
 * Replace iff `is_replace_controller` AND `len(source.split(' ')) == len(target.split(' '))`,
 * else Refine. The word count splits on single spaces, so "countryside," vs "countryside"
 * still counts as equal, and a double space adds a word.
 */
export const chooseController = (options: {source: string; target: string; controller?: ControllerOption; reweight?: boolean}): ControllerChoice => {
	const controller = options.controller ?? 'auto';
	if (!CONTROLLER_OPTIONS.includes(controller)) {
		throw new FateZeroError(
			'INVALID_OPTION',
			`controller is ${JSON.stringify(controller) ?? String(controller)}; use 'auto' (Replace when both prompts have the same number of words, else Refine), 'replace' or 'refine'.`,
		);
	}
	const wordCountSource = wordCount(options.source);
	const wordCountTarget = wordCount(options.target);
	const equal = wordCountSource === wordCountTarget;
	const counts = equal ? `both prompts have ${wordCountSource} words` : `the source has ${wordCountSource} words and the target ${wordCountTarget}`;
	const reweight = options.reweight ?? false;
	const wrapped = reweight ? ', wrapped in Reweight' : '';
	if (controller === 'replace' && !equal) {
		throw new FateZeroError(
			'INVALID_OPTION',
			`controller 'replace' needs prompts with the same number of space-separated words, but ${counts} ` +
				`(source "${options.source}", target "${options.target}"). Use 'auto' or 'refine', or reword the target word for word.`,
		);
	}
	if (controller === 'refine') {
		return {kind: 'refine', reweight, wordCountSource, wordCountTarget, reason: `Refine${wrapped}: chosen by the controller option (${counts})`};
	}
	if (equal) {
		return {kind: 'replace', reweight, wordCountSource, wordCountTarget, reason: `Replace${wrapped}: ${counts}`};
	}
	return {kind: 'refine', reweight, wordCountSource, wordCountTarget, reason: `Refine${wrapped}: ${counts}`};
};

/** The descriptor option that reproduces an official config's `is_replace_controller` (default true). */
export const controllerFromOfficial = (isReplaceController: boolean | undefined): ControllerOption =>
	isReplaceController === false ? 'refine' : 'auto';
