import {readFile, stat} from 'node:fs/promises';
import path from 'node:path';
import {FateZeroError} from '../errors/fatezero-error.js';
import {ClipTokenizer} from './clip-tokenizer.js';

const isMissing = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';

const exists = async (file: string) => {
	try {
		await stat(file);
		return true;
	} catch {
		return false;
	}
};

const fileMissing = async (dir: string, name: string) => {
	// A model root passed instead of its tokenizer/ folder is the usual slip.
	const hint = (await exists(path.join(dir, 'tokenizer', name)))
		? ` It looks like a model folder: pass ${path.join(dir, 'tokenizer')} instead.`
		: " Download the model's tokenizer/ folder completely (vocab.json and merges.txt are both required).";
	return new FateZeroError('MODEL_FILE_MISSING', `The tokenizer folder ${dir} has no ${name}.${hint}`);
};

/**
 * Loads the CLIP tokenizer of a diffusers model from its tokenizer/ folder: vocab.json and
 * merges.txt (required), tokenizer_config.json and special_tokens_map.json (optional: pad token
 * and max length).
 */
export const loadClipTokenizer = async (tokenizerDir: string): Promise<ClipTokenizer> => {
	const dir = path.resolve(tokenizerDir);
	const info = await stat(dir).catch((error: unknown) => {
		if (isMissing(error)) return undefined;
		throw error;
	});
	if (!info?.isDirectory()) {
		throw new FateZeroError(
			'MODEL_FOLDER_MISSING',
			`The tokenizer folder ${dir} ${info ? 'is not a folder' : 'does not exist'}. Pass the tokenizer/ folder of a diffusers SD-1.x model (it holds vocab.json and merges.txt).`,
		);
	}

	const readText = async (name: string): Promise<string | undefined> => {
		try {
			return await readFile(path.join(dir, name), 'utf8');
		} catch (error) {
			if (isMissing(error)) return undefined;
			throw error;
		}
	};

	const [vocabJson, mergesTxt, tokenizerConfigJson, specialTokensMapJson] = await Promise.all(
		['vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json'].map(readText),
	);
	if (vocabJson === undefined) throw await fileMissing(dir, 'vocab.json');
	if (mergesTxt === undefined) throw await fileMissing(dir, 'merges.txt');
	return ClipTokenizer.fromFiles({
		vocabJson,
		mergesTxt,
		tokenizerConfigJson,
		specialTokensMapJson,
		origin: dir,
	});
};
