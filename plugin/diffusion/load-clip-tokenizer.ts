import {readFile, stat} from 'node:fs/promises';
import path from 'node:path';
import {FateZeroError} from '../errors/fatezero-error.js';
import {BYTE_TO_CHAR, ClipTokenizer} from './clip-tokenizer.js';

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

/** The prompt `fatezero doctor` encodes to prove the tokenizer works end to end. */
export const TOKENIZER_PROBE_PROMPT = 'a silver jeep driving down a curvy road, watercolor painting';

export type TokenizerCheck = {vocabSize: number; mergeCount: number; probe: {prompt: string; tokens: number; ids: number[]}};

const broken = (dir: string, file: string, what: string) =>
	new FateZeroError('MODEL_CONFIG_INVALID', `${file} in ${dir} ${what}. Download the model's tokenizer/ folder again (vocab.json and merges.txt of an SD-1.x CLIP tokenizer).`);

/**
 * What `fatezero doctor` checks of a tokenizer/ folder, so a damaged one fails there and not at
 * the first edit: vocab.json and merges.txt parse; the vocabulary holds CLIP's byte alphabet
 * (each byte alone and with "</w>") and the result of every merge; its size is CLIP's layout
 * (512 + merges + 2 specials, so a file cut short is caught even where it still parses); its ids
 * fit the text encoder's embedding table; and a probe prompt encodes to ids inside it.
 */
export const checkClipTokenizer = async (tokenizerDir: string, options: {textEncoderVocabSize?: number} = {}): Promise<TokenizerCheck> => {
	const tokenizer = await loadClipTokenizer(tokenizerDir);
	const dir = path.resolve(tokenizerDir);
	const missingByte = BYTE_TO_CHAR.flatMap((c) => [c, `${c}</w>`]).find((token) => tokenizer.tokenId(token) === undefined);
	if (missingByte !== undefined) throw broken(dir, 'vocab.json', `lacks the byte token ${JSON.stringify(missingByte)} (CLIP's vocabulary starts with all 256 bytes, alone and with "</w>"): it looks truncated`);
	const merges = tokenizer.merges();
	const unknownMerge = merges.findIndex((pair) => tokenizer.tokenId(pair.replace(' ', '')) === undefined);
	// a file cut mid-line ends in a partial merge whose token cannot exist
	if (unknownMerge >= 0 && unknownMerge === merges.length - 1 && merges.length > 1) {
		throw broken(dir, 'merges.txt', `ends in merge ${unknownMerge + 1} (${JSON.stringify(merges[unknownMerge])}) that vocab.json has no token for: merges.txt looks truncated`);
	}
	if (unknownMerge >= 0) throw broken(dir, 'vocab.json', `has no token for merge ${unknownMerge + 1} of merges.txt (${JSON.stringify(merges[unknownMerge])}): vocab.json looks truncated, or belongs to another tokenizer`);
	// distinct tokens: a merge may produce a token that already exists
	const expected = new Set([...BYTE_TO_CHAR, ...BYTE_TO_CHAR.map((c) => `${c}</w>`), ...merges.map((pair) => pair.replace(' ', ''))]).size + 2;
	if (tokenizer.vocabSize !== expected) {
		const file = tokenizer.vocabSize > expected ? 'merges.txt' : 'vocab.json';
		throw broken(dir, file, `does not match: vocab.json has ${tokenizer.vocabSize} tokens, but ${merges.length} merges make a CLIP vocabulary of ${expected} (512 byte tokens + merges + 2 specials); ${file} looks truncated`);
	}
	const limit = options.textEncoderVocabSize;
	const encoding = tokenizer.encode(TOKENIZER_PROBE_PROMPT);
	const ids = encoding.ids;
	const tooLarge = ids.find((id) => limit !== undefined && id >= limit);
	if (tooLarge !== undefined || (limit !== undefined && tokenizer.vocabSize > limit)) {
		throw broken(dir, 'vocab.json', `has ${tokenizer.vocabSize} tokens (the probe prompt encodes to id ${tooLarge ?? Math.max(...ids)}), more than the ${limit} rows of the text encoder's embedding (text_encoder/config.json vocab_size): tokenizer and text encoder do not belong together`);
	}
	const tokens = encoding.tokens.length;
	return {vocabSize: tokenizer.vocabSize, mergeCount: merges.length, probe: {prompt: TOKENIZER_PROBE_PROMPT, tokens, ids: ids.slice(0, tokens)}};
};
