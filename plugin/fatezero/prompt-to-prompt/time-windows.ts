import {FateZeroError} from '../../errors/fatezero-error.js';
import {didYouMean, wordPositions, type PromptTokenizer} from './prompt-words.js';

/**
 * A window of the denoising steps as fractions of the run: `s` means [0, s), `[a, b]` means
 * [a, b). Both ends in [0, 1], a ≤ b.
 */
export type StepWindow = number | readonly [number, number];

/**
 * FateZero's `cross_replace_steps`: one window for every token, or
 * `{default_: window, <target word>: window, …}` with per-word windows for the target prompt's
 * tokens (a missing default_ means the whole run, [0, 1]).
 */
export type CrossReplaceSteps = StepWindow | Readonly<Record<string, StepWindow>>;

/** FateZero's key for the window of every token without a word window of its own. */
export const DEFAULT_WINDOW_KEY = 'default_';

const describe = (value: unknown): string => {
	if (typeof value === 'number') return String(value);
	try {
		return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)) ?? String(value);
	} catch {
		return String(value);
	}
};

const invalidWindow = (option: string, value: unknown, problem: string) =>
	new FateZeroError(
		'INVALID_OPTION',
		`${option} is ${describe(value)}: ${problem}. Give a fraction of the steps in [0, 1] (0.8 = the first 80 % of the steps) or a window [start, end] with 0 ≤ start ≤ end ≤ 1.`,
	);

/** Checks a window option and returns it as [start, end] fractions. */
export const checkStepWindow = (option: string, value: unknown): readonly [number, number] => {
	const inRange = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0 && x <= 1;
	if (typeof value === 'number') {
		if (!inRange(value)) throw invalidWindow(option, value, Number.isNaN(value) ? 'not a number' : 'outside [0, 1]');
		return [0, value];
	}
	if (!Array.isArray(value) || value.length !== 2) throw invalidWindow(option, value, 'not a fraction or a [start, end] pair');
	const [start, end] = value as unknown[];
	if (!inRange(start) || !inRange(end)) throw invalidWindow(option, value, 'an end is not a number in [0, 1]');
	if (start > end) throw invalidWindow(option, value, 'start is after end (a reversed window would select no step)');
	return [start, end];
};

const checkSteps = (steps: number): void => {
	if (!Number.isInteger(steps) || steps < 1) {
		throw new FateZeroError('INVALID_OPTION', `steps is ${String(steps)}; the number of DDIM steps must be a whole number ≥ 1 (FateZero uses 50; 10 for a quick run).`);
	}
};

const isWordWindows = (value: CrossReplaceSteps): value is Readonly<Record<string, StepWindow>> =>
	typeof value === 'object' && value !== null && !Array.isArray(value);

export type CrossReplaceAlpha = {
	/** 1 where the step's cross-attention for that target token is taken from the (mapped) source. // [N+1, 77] (official [N+1, 1, 1, 1, 77]) */
	alpha: Float32Array;
	/** Word keys matching no token of the target prompt (the official code skips them silently). */
	notFound: string[];
	warnings: string[];
};

/**
 * ptp_utils.get_time_words_attention_alpha for one target (fatezero-spec §2.3): rows are denoising
 * steps 0..N (N+1 rows; editing step i reads row i), columns are target token positions.
 *
 * Quirk "N+1 rows": a window [a, b) selects rows [int(a·(N+1)), int(b·(N+1))), while the self
 * window uses int(a·N), int(b·N). The same fraction can therefore cover one more cross step than
 * self steps: 0.5 at N = 7 gives cross steps 0..3 (int(4.0)) but self steps 0..2 (int(3.5)); at
 * N = 50, 0.8 gives 0..39 for both. Row N is never read (editing steps are 0..N−1).
 *
 * Word windows are applied after the default, to the word's tokens in the target prompt only.
 */
export const crossReplaceAlpha = (tokenizer: PromptTokenizer, target: string, steps: number, crossReplace: CrossReplaceSteps): CrossReplaceAlpha => {
	checkSteps(steps);
	const length = tokenizer.maxLength;
	const rows = steps + 1;
	const alpha = new Float32Array(rows * length); // [N+1, 77]
	const fill = ([start, end]: readonly [number, number], columns: Iterable<number>) => {
		// Python int() truncates; the products are ≥ 0 here, so this is floor.
		const first = Math.trunc(start * rows);
		const last = Math.trunc(end * rows);
		for (const column of columns) {
			for (let row = 0; row < rows; row++) alpha[row * length + column] = row >= first && row < last ? 1 : 0;
		}
	};
	const allColumns = Array.from({length}, (_, column) => column);
	const notFound: string[] = [];
	const warnings: string[] = [];
	if (!isWordWindows(crossReplace)) {
		fill(checkStepWindow('crossReplace', crossReplace), allColumns);
		return {alpha, notFound, warnings};
	}
	const entries = Object.entries(crossReplace);
	const fallback = Object.hasOwn(crossReplace, DEFAULT_WINDOW_KEY) ? crossReplace[DEFAULT_WINDOW_KEY] : ([0, 1] as const);
	fill(checkStepWindow(`crossReplace.${DEFAULT_WINDOW_KEY}`, fallback), allColumns);
	for (const [word, window] of entries) {
		if (word === DEFAULT_WINDOW_KEY) continue;
		const checked = checkStepWindow(`crossReplace[${JSON.stringify(word)}]`, window);
		const positions = wordPositions(tokenizer, target, word);
		if (positions.length === 0) {
			notFound.push(word);
			warnings.push(
				`crossReplace has a window for ${JSON.stringify(word)}, which is not in the target prompt "${target}", so it changes nothing (the official code skips it silently).${didYouMean(target, word)}`,
			);
			continue;
		}
		fill(checked, positions);
	}
	return {alpha, notFound, warnings};
};

/**
 * AttentionControlEdit's `num_self_replace` (fatezero-spec §2.3): the denoising steps
 * [start, end) whose self-attention is fused with the inversion's, `int(N·a), int(N·b)` for a
 * window [a, b] (a bare fraction s is [0, s]).
 */
export const selfReplaceWindow = (steps: number, selfReplace: StepWindow): [number, number] => {
	checkSteps(steps);
	const [start, end] = checkStepWindow('selfReplace', selfReplace);
	return [Math.trunc(steps * start), Math.trunc(steps * end)];
};
