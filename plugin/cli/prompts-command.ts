import path from 'node:path';
import {parseArgs} from 'node:util';
import type {ClipTokenizer} from '../diffusion/clip-tokenizer.js';
import {loadClipTokenizer} from '../diffusion/load-clip-tokenizer.js';
import {FateZeroError} from '../errors/fatezero-error.js';
import {
	CONTROLLER_OPTIONS,
	chooseController,
	nearMisses,
	promptTruncationWarnings,
	promptWords,
	refinementMapper,
	replacementMapper,
	wordPositions,
	type ControllerKind,
	type ControllerOption,
} from '../fatezero/prompt-to-prompt/index.js';
import {resolveCacheDir} from '../project/resolve-cache-dir.js';
import {withArgErrors} from './parse-cli-args.js';
import {resolveCommandModel as resolveModelDir} from '../project/resolve-model.js';

export const PROMPTS_HELP = `fatezero prompts --source TEXT --target TEXT [--words W1,W2,…] [options]

Shows how the source and target prompts tokenize, which cross-attention controller the edit uses
(Replace when both prompts have the same number of space-separated words, else Refine), how the
target's tokens align with the source's, and where the given words sit (token positions; words
match the prompt's space-separated words exactly, case and punctuation included, as in the
official code). Warns about blend/reweight words that are not found: FateZero ignores them silently.

Options:
  --source TEXT         The prompt that describes the input video (FateZero's dataset prompt).
  --target TEXT         The editing prompt.
  --words W1,W2,…       Blend or reweight words to locate in both prompts (repeatable).
  --word W              One word taken literally, for words that contain a comma ("countryside,").
  --controller C        ${CONTROLLER_OPTIONS.join(' | ')}. Default auto (the official rule).
  --model DIR           SD-1.x folder whose tokenizer/ to use. Default: FATEZERO_MODEL, else the
                        generated tiny model, whose synthetic vocabulary gives other token ids than
                        real CLIP.
  --cache-dir DIR       Default FATEZERO_CACHE_DIR or ./cache (where the tiny model is generated).
  --json                Print one JSON object: {"source": {"ids", "tokens", "words"}, "target": {…},
                        "controller", "alignment", "warnings"}.`;

type PromptReport = {
	/** The 77 ids the text encoder reads (bos, tokens, eos, padding). */
	ids: number[];
	/** The BPE tokens from bos to eos. */
	tokens: string[];
	/** Token positions of each given word (empty: not found). */
	words: Record<string, number[]>;
};

/** One target token and the source token positions whose attention it takes (empty: its own). */
type AlignmentRow = {target: number; source: number[]; weight: number};

type PromptsReport = {
	source: PromptReport;
	target: PromptReport;
	controller: ControllerKind;
	alignment: AlignmentRow[];
	warnings: string[];
};

const describePrompt = (tokenizer: ClipTokenizer, prompt: string, words: readonly string[]): PromptReport => {
	const encoding = tokenizer.encode(prompt);
	return {
		ids: encoding.ids,
		tokens: encoding.tokens,
		words: Object.fromEntries(words.map((word) => [word, wordPositions(tokenizer, prompt, word)])),
	};
};

/** For every token position of a prompt, the space-separated word it belongs to (get_word_inds by index). */
const tokenWords = (tokenizer: ClipTokenizer, prompt: string, tokenCount: number): string[] => {
	const owners = new Array<string>(tokenCount).fill('');
	promptWords(prompt).forEach((word, index) => {
		for (const position of wordPositions(tokenizer, prompt, index)) if (position < tokenCount) owners[position] = word === '' ? '(empty word)' : word;
	});
	return owners;
};

/**
 * Which source tokens each target token (bos to eos) reads its cross-attention from:
 * Replace → the nonzero rows of the mapper's column; Refine → the aligned token where alpha is 1.
 */
const alignmentRows = (tokenizer: ClipTokenizer, source: string, target: string, kind: ControllerKind, targetTokens: number): AlignmentRow[] => {
	const length = tokenizer.maxLength;
	const rows: AlignmentRow[] = [];
	if (kind === 'replace') {
		const mapper = replacementMapper(tokenizer, source, target); // [77, 77]
		for (let column = 0; column < targetTokens; column++) {
			const from: number[] = [];
			let weight = 0;
			for (let row = 0; row < length; row++) {
				const value = mapper[row * length + column];
				if (value !== 0) {
					from.push(row);
					weight = value;
				}
			}
			rows.push({target: column, source: from, weight});
		}
	} else {
		const {mapper, alphas} = refinementMapper(tokenizer, source, target); // [77], [77]
		for (let j = 0; j < targetTokens; j++) rows.push({target: j, source: alphas[j] === 1 ? [mapper[j]] : [], weight: alphas[j]});
	}
	return rows;
};

/**
 * Warnings for the given words. A word found in neither prompt would do nothing as a blend or
 * reweight word (the official code ignores it silently). A word found in one prompt only is
 * normal (source blend words live in the source, reweight and target blend words in the
 * target), so it is only warned about when the other prompt has a near miss ("countryside" vs
 * "countryside,", "porsche" vs "Porsche") that the exact matching will not take.
 */
const wordWarnings = (source: string, target: string, report: {source: PromptReport; target: PromptReport}): string[] => {
	const warnings: string[] = [];
	const exact = 'Words match the space-separated words of a prompt exactly, case and punctuation included.';
	for (const word of Object.keys(report.source.words)) {
		const inSource = report.source.words[word].length > 0;
		const inTarget = report.target.words[word].length > 0;
		if (!inSource && !inTarget) {
			const hint = [...new Set([...nearMisses(source, word), ...nearMisses(target, word)])];
			warnings.push(
				`${JSON.stringify(word)} is in neither prompt: as a blend or reweight word it selects nothing (the official code ignores it silently).` +
					`${hint.length > 0 ? ` Did you mean ${hint.map((candidate) => JSON.stringify(candidate)).join(' or ')}?` : ''} ${exact}`,
			);
			continue;
		}
		for (const [side, prompt, found] of [
			['source', source, inSource],
			['target', target, inTarget],
		] as const) {
			const hint = found ? [] : nearMisses(prompt, word);
			if (hint.length === 0) continue;
			warnings.push(
				`${JSON.stringify(word)} is not in the ${side} prompt, which has ${hint.map((candidate) => JSON.stringify(candidate)).join(' and ')}: ` +
					`${side === 'source' ? 'as a source blend word' : 'as a reweight or target blend word'} it would select nothing. ${exact}`,
			);
		}
	}
	return warnings;
};

const pad = (text: string, width: number) => text.padEnd(width);

const printHuman = (tokenizer: ClipTokenizer, source: string, target: string, report: PromptsReport, reason: string) => {
	const sourceOwners = tokenWords(tokenizer, source, report.source.tokens.length);
	const targetOwners = tokenWords(tokenizer, target, report.target.tokens.length);
	const tokenWidth = Math.max(5, ...[...report.source.tokens, ...report.target.tokens].map((t) => t.length)) + 2;
	const wordWidth = Math.max(4, ...[...sourceOwners, ...targetOwners].map((w) => w.length)) + 2;
	const header = `  ${'pos'.padStart(3)}  ${pad('id', 6)} ${pad('token', tokenWidth)}${pad('word', wordWidth)}`;
	const line = (position: number, id: number, token: string, owner: string) => `  ${String(position).padStart(3)}  ${pad(String(id), 6)} ${pad(token, tokenWidth)}${pad(owner, wordWidth)}`;

	console.log(`Source      ${JSON.stringify(source)}: ${promptWords(source).length} words, ${report.source.tokens.length} tokens with bos/eos`);
	console.log(`Target      ${JSON.stringify(target)}: ${promptWords(target).length} words, ${report.target.tokens.length} tokens with bos/eos`);
	console.log(`Controller  ${reason}`);
	console.log('');
	console.log('Source tokens');
	console.log(header);
	report.source.tokens.forEach((token, position) => console.log(line(position, report.source.ids[position], token, sourceOwners[position])));
	console.log('');
	console.log(
		report.controller === 'replace'
			? 'Target tokens ← the source tokens whose cross-attention they take (Replace: changed words take the source word\'s maps)'
			: 'Target tokens ← the aligned source token whose cross-attention they keep (Refine; "new" tokens keep their own)',
	);
	console.log(`${header}← source`);
	for (const row of report.alignment) {
		const from =
			row.source.length === 0
				? 'new'
				: row.source.map((position) => `${position} ${report.source.tokens[position] ?? '<|endoftext|>'}`).join(' + ') + (row.weight !== 1 ? ` (×${Number(row.weight.toFixed(4))})` : '');
		console.log(`${line(row.target, report.target.ids[row.target], report.target.tokens[row.target], targetOwners[row.target])}← ${from}`);
	}
	const words = Object.keys(report.source.words);
	if (words.length > 0) {
		const width = Math.max(4, ...words.map((word) => JSON.stringify(word).length)) + 2;
		const positions = (list: number[]) => (list.length === 0 ? '— not found' : list.join(', '));
		console.log('');
		console.log(`Words       ${pad('word', width)}${pad('source positions', 20)}target positions`);
		for (const word of words) {
			console.log(`            ${pad(JSON.stringify(word), width)}${pad(positions(report.source.words[word]), 20)}${positions(report.target.words[word])}`);
		}
		console.log('            (source blend words must be in the source; reweight and target blend words in the target)');
	}
	for (const warning of report.warnings) console.log(`⚠ ${warning}`);
};

export const promptsCommand = async (args: string[]): Promise<number> => {
	const {values} = withArgErrors('prompts', () =>
		parseArgs({
			args,
			strict: true,
			options: {
				model: {type: 'string'},
				source: {type: 'string'},
				target: {type: 'string'},
				words: {type: 'string', multiple: true},
				word: {type: 'string', multiple: true},
				controller: {type: 'string'},
				'cache-dir': {type: 'string'},
				json: {type: 'boolean'},
			},
		}),
	);
	const {source, target} = values;
	if (source === undefined || target === undefined) {
		throw new FateZeroError(
			'INVALID_OPTION',
			`fatezero prompts needs both --source and --target (missing ${source === undefined ? '--source' : '--target'}). Example: fatezero prompts --source "a silver jeep driving down a curvy road" --target "a Porsche car driving down a curvy road" --words jeep,Porsche`,
		);
	}
	const controller = (values.controller ?? 'auto') as ControllerOption;
	if (!CONTROLLER_OPTIONS.includes(controller)) {
		throw new FateZeroError('INVALID_OPTION', `--controller "${values.controller}" is not one of ${CONTROLLER_OPTIONS.join(', ')}. Run "fatezero prompts --help".`);
	}
	// Words never contain spaces (prompts split on ' '), so trimming the comma-separated list is safe.
	const words = [
		...new Set([
			...(values.words ?? []).flatMap((list) =>
				list
					.split(',')
					.map((word) => word.trim())
					.filter((word) => word !== ''),
			),
			...(values.word ?? []),
		]),
	];

	const resolved = resolveModelDir(values.model, resolveCacheDir(values['cache-dir']));
	const notices = [resolved.notice];
	if (resolved.generated) {
		notices.push('Its tokenizer has a small synthetic vocabulary: token ids and word splits differ from real CLIP (the alignment rules are the same).');
	}
	const tokenizer = await loadClipTokenizer(path.join(resolved.dir, 'tokenizer'));

	const choice = chooseController({source, target, controller});
	const sourceReport = describePrompt(tokenizer, source, words);
	const targetReport = describePrompt(tokenizer, target, words);
	const warnings = promptTruncationWarnings(tokenizer, source, target);
	warnings.push(...wordWarnings(source, target, {source: sourceReport, target: targetReport}));
	const report: PromptsReport = {
		source: sourceReport,
		target: targetReport,
		controller: choice.kind,
		alignment: alignmentRows(tokenizer, source, target, choice.kind, targetReport.tokens.length),
		warnings,
	};

	if (values.json) {
		// stdout carries only the JSON; where the tokenizer came from goes to stderr.
		for (const notice of notices) console.error(notice);
		console.log(JSON.stringify(report));
	} else {
		for (const notice of notices) console.log(notice);
		console.log('');
		printHuman(tokenizer, source, target, report, choice.reason);
	}
	return 0;
};
