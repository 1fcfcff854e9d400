import {FateZeroError} from '../errors/fatezero-error.js';

/**
 * The CLIP BPE tokenizer of SD-1.x, giving the same ids as the slow transformers 4.25
 * `CLIPTokenizer` (with ftfy installed) that the official FateZero pipeline uses, and prompt-to-prompt's
 * `get_word_inds`. Browser-safe: it takes the files' contents; plugin/diffusion/load-clip-tokenizer.ts
 * reads them from a model folder in Node.
 */

export type ClipSpecialTokens = {bos: string; eos: string; pad: string; unk: string};

export type ClipTokenizerInit = {
	/** vocab.json: byte-level BPE token → id. */
	vocab: Record<string, number>;
	/** merges.txt as text: a `#version` header line, then one "left right" merge per line by rank. */
	merges: string;
	/** Defaults: CLIPTokenizer's (`<|startoftext|>`, and `<|endoftext|>` for eos, pad and unk). */
	specialTokens?: Partial<ClipSpecialTokens>;
	/** Length of every encoded sequence (bos + text + eos + padding); SD-1.x: 77. */
	maxLength?: number;
	/** Where the files came from, named in error messages. */
	origin?: string;
};

export type ClipTokenizerFiles = {
	vocabJson: string;
	mergesTxt: string;
	tokenizerConfigJson?: string;
	specialTokensMapJson?: string;
	/** The tokenizer folder (or URL), named in error messages. */
	origin?: string;
};

export type ClipEncoding = {
	/** Exactly maxLength ids: bos, at most maxLength − 2 text tokens, eos, then pad ids. */
	ids: number[];
	/** The BPE tokens of the kept ids, bos to eos, without the padding. */
	tokens: string[];
	/** Whether text tokens were dropped to fit maxLength. */
	truncated: boolean;
	/** Token count with bos and eos before truncation. */
	untruncatedLength: number;
	/** Set when truncated: what was dropped and what to do. */
	warning?: string;
};

export type ClipEncodeOptions = {
	/** Called with the truncation warning; the SD pipeline truncates silently, we say so. */
	onWarning?: (message: string) => void;
};

const DEFAULT_SPECIAL_TOKENS: ClipSpecialTokens = {
	bos: '<|startoftext|>',
	eos: '<|endoftext|>',
	pad: '<|endoftext|>',
	unk: '<|endoftext|>',
};

const SD1_MAX_LENGTH = 77;

// CLIPTokenizer reads at most this many merges (its vocab is 256 bytes ×2, the merges and 2 specials).
const MAX_MERGES = 49152 - 256 - 2;

// ---------------------------------------------------------------------------------------------
// Text cleanup: ftfy.fix_text (v6.1.1 defaults) → whitespace_clean → lower(), as _tokenize does.

// Python's str.isspace() set, which `re`'s \s, str.strip() and whitespace_clean use.
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_SPACE_RUN = new RegExp(`[${PY_SPACE}]+`, 'g');
const PY_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g');

const HTML_ENTITY = /&#?[0-9A-Za-z]{1,24};/g;

// ftfy decodes every HTML5 entity name; these are the ones that turn up in prompts: markup and
// typography, and the accented Latin-1 letters (&eacute;). Rarer names stay literal here.
const NAMED_ENTITIES = new Map<string, string>(
	Object.entries({
		amp: '&',
		lt: '<',
		gt: '>',
		quot: '"',
		apos: "'",
		nbsp: '\xa0',
		hellip: '\u2026',
		mdash: '\u2014',
		ndash: '\u2013',
		lsquo: '\u2018',
		rsquo: '\u2019',
		ldquo: '\u201c',
		rdquo: '\u201d',
		copy: '\xa9',
		reg: '\xae',
		trade: '\u2122',
		deg: '\xb0',
		times: '\xd7',
		AElig: '\xc6',
		aelig: '\xe6',
		szlig: '\xdf',
		Oslash: '\xd8',
		oslash: '\xf8',
		ETH: '\xd0',
		eth: '\xf0',
		THORN: '\xde',
		thorn: '\xfe',
		Yuml: '\u0178',
	}),
);
// &Aacute; … &yuml;: every Latin-1 letter that is a base letter plus one of these marks.
for (const [suffix, mark] of Object.entries({grave: '\u0300', acute: '\u0301', circ: '\u0302', tilde: '\u0303', uml: '\u0308', ring: '\u030a', cedil: '\u0327'})) {
	for (const base of 'aceinouyACEINOUY') {
		const letter = (base + mark).normalize('NFC');
		if (letter.length === 1 && letter >= '\xc0' && letter <= '\xff') NAMED_ENTITIES.set(base + suffix, letter);
	}
}

// Bytes 0x80–0x9F read as windows-1252, undefined ones kept (Python's "sloppy-windows-1252").
const CP1252_C1 =
	'\u20ac\x81\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\x8d\u017d\x8f' +
	'\x90\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\x9d\u017e\u0178';

const isNonCharacter = (code: number) =>
	(code >= 0x1 && code <= 0x8) ||
	code === 0xb ||
	(code >= 0xe && code <= 0x1f) ||
	(code >= 0x7f && code <= 0x9f) ||
	(code >= 0xfdd0 && code <= 0xfdef) ||
	(code & 0xfffe) === 0xfffe;

// Python's html.unescape for one numeric character reference.
const decodeCharacterReference = (digits: string, hex: boolean): string => {
	const code = hex ? parseInt(digits, 16) : Number(digits);
	if (code === 0) return '\ufffd';
	if (code === 0x0d) return '\r';
	if (code >= 0x80 && code <= 0x9f) return CP1252_C1[code - 0x80];
	if ((code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) return '\ufffd';
	if (isNonCharacter(code)) return '';
	return String.fromCodePoint(code);
};

const unescapeEntity = (entity: string): string => {
	const name = entity.slice(1, -1);
	// ftfy also reads all-caps spellings of lowercase names, as the upper-cased character (&EACUTE; → É).
	const named = NAMED_ENTITIES.get(name) ?? (name === name.toUpperCase() ? NAMED_ENTITIES.get(name.toLowerCase())?.toUpperCase() : undefined);
	if (named !== undefined) return named;
	const numeric = /^#(?:([0-9]+)|[xX]([0-9a-fA-F]+))$/.exec(name);
	if (!numeric) return entity;
	const decoded = decodeCharacterReference(numeric[1] ?? numeric[2], numeric[1] === undefined);
	// ftfy keeps the entity when decoding would leave a semicolon behind (&#59;).
	return decoded.includes(';') ? entity : decoded;
};

const LATIN_LIGATURES: Record<string, string> = {
	'\u0132': 'IJ',
	'\u0133': 'ij',
	'\u0149': '\u02bcn',
	'\u01f1': 'DZ',
	'\u01f2': 'Dz',
	'\u01f3': 'dz',
	'\u01c4': 'D\u017d',
	'\u01c5': 'D\u017e',
	'\u01c6': 'd\u017e',
	'\u01c7': 'LJ',
	'\u01c8': 'Lj',
	'\u01c9': 'lj',
	'\u01ca': 'NJ',
	'\u01cb': 'Nj',
	'\u01cc': 'nj',
	'\ufb00': 'ff',
	'\ufb01': 'fi',
	'\ufb02': 'fl',
	'\ufb03': 'ffi',
	'\ufb04': 'ffl',
	'\ufb05': '\u017ft',
	'\ufb06': 'st',
};
const LATIN_LIGATURE = new RegExp(`[${Object.keys(LATIN_LIGATURES).join('')}]`, 'g');

// One ftfy pass over a line, in ftfy's order. Its mojibake repair (fix_encoding) is not
// reproduced: it only changes text that was decoded with the wrong codec, which typed prompts are not.
const ftfyPass = (text: string, unescapeHtml: boolean): string => {
	let out = unescapeHtml ? text.replace(HTML_ENTITY, unescapeEntity) : text;
	out = out.replace(/[\x80-\x9f]/g, (c) => CP1252_C1[c.charCodeAt(0) - 0x80]);
	out = out.replace(LATIN_LIGATURE, (c) => LATIN_LIGATURES[c]);
	out = out.replace(/[\u3000\uff01-\uffef]/g, (c) => (c === '\u3000' ? ' ' : c.normalize('NFKC')));
	out = out.replace(/[\u02bc\u2018-\u201b]/g, "'").replace(/[\u201c-\u201f]/g, '"');
	out = out.replace(/\r\n|[\r\u2028\u2029\x85]/g, '\n');
	out = out.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
	out = out.replace(/\x1b\[[\p{Nd};]*[a-zA-Z]/gu, '');
	out = out.replace(/[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc]/g, '');
	return out.normalize('NFC');
};

const ftfyFixText = (text: string): string => {
	let out = '';
	// ftfy stops decoding HTML entities from the first line that contains '<' on: "a &amp; b <tag>"
	// keeps its "&amp;", "Tom &amp; Jerry" becomes "Tom & Jerry".
	let unescapeHtml = true;
	for (let start = 0; start < text.length; ) {
		const newline = text.indexOf('\n', start);
		const end = newline === -1 ? text.length : newline + 1;
		let segment = text.slice(start, end);
		if (segment.includes('<')) unescapeHtml = false;
		for (let previous = ''; previous !== segment; ) {
			previous = segment;
			segment = ftfyPass(segment, unescapeHtml);
		}
		out += segment;
		start = end;
	}
	return out;
};

/** The text CLIP's BPE sees: ftfy-fixed, whitespace runs collapsed to one space, stripped, lowercased. */
export const cleanClipText = (text: string): string =>
	ftfyFixText(text).replace(PY_SPACE_RUN, ' ').replace(PY_STRIP, '').toLowerCase();

// CLIP's pre-tokenizer: special tokens, English contractions, letter runs, single digits, and
// runs of everything else.
const PRE_TOKENIZER = new RegExp(
	`<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^${PY_SPACE}\\p{L}\\p{N}]+`,
	'giu',
);

// ---------------------------------------------------------------------------------------------
// Byte-level alphabet (GPT-2's bytes_to_unicode): printable Latin-1 bytes stand for themselves,
// the other 68 bytes get the code points from U+0100 up, so every byte is a visible character.

/** The byte-level alphabet: BYTE_TO_CHAR[b] is the character vocab.json and merges.txt use for byte b. */
export const BYTE_TO_CHAR: readonly string[] = (() => {
	const table: string[] = new Array(256);
	const isPrintable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
	let next = 0;
	for (let b = 0; b < 256; b++) table[b] = String.fromCharCode(isPrintable(b) ? b : 256 + next++);
	return table;
})();

const CHAR_TO_BYTE = new Map(BYTE_TO_CHAR.map((char, byte) => [char, byte]));

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8');

const toByteChars = (text: string): string => {
	let out = '';
	for (const byte of utf8.encode(text)) out += BYTE_TO_CHAR[byte];
	return out;
};

const codePointLength = (text: string): number => {
	let length = 0;
	for (const _ of text) length++;
	return length;
};

const stripHashes = (text: string): string => text.replace(/^#+|#+$/g, '');

// transformers' clean_up_tokenization, applied by decode() by default.
const cleanUpTokenization = (text: string): string =>
	text
		.replaceAll(' .', '.')
		.replaceAll(' ?', '?')
		.replaceAll(' !', '!')
		.replaceAll(' ,', ',')
		.replaceAll(" ' ", "'")
		.replaceAll(" n't", "n't")
		.replaceAll(" 'm", "'m")
		.replaceAll(" 's", "'s")
		.replaceAll(" 've", "'ve")
		.replaceAll(" 're", "'re");

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const END_OF_WORD = '</w>';

const CLIP_SPECIAL_LITERALS = new Set(['<|startoftext|>', '<|endoftext|>']);

// Bounds the per-word BPE cache of a long-lived tokenizer (prompts reuse few words).
const MAX_CACHED_WORDS = 50_000;

// ---------------------------------------------------------------------------------------------

const configInvalid = (origin: string, file: string, what: string) =>
	new FateZeroError(
		'MODEL_CONFIG_INVALID',
		`${file} in ${origin} ${what}. Download the model's tokenizer/ folder again (it must hold an SD-1.x CLIP vocab.json and merges.txt).`,
	);

const parseJson = (text: string, origin: string, file: string): unknown => {
	try {
		return JSON.parse(text);
	} catch (error) {
		throw configInvalid(origin, file, `is not valid JSON (${(error as Error).message})`);
	}
};

// Special tokens are written either as strings or as serialised AddedToken objects {content, …}.
const tokenContent = (value: unknown): string | undefined => {
	if (typeof value === 'string') return value;
	if (value && typeof value === 'object' && typeof (value as {content?: unknown}).content === 'string') {
		return (value as {content: string}).content;
	}
	return undefined;
};

const readSpecialTokens = (config: unknown): Partial<ClipSpecialTokens> => {
	if (!config || typeof config !== 'object') return {};
	const record = config as Record<string, unknown>;
	const found: Partial<ClipSpecialTokens> = {};
	for (const key of ['bos', 'eos', 'pad', 'unk'] as const) {
		const content = tokenContent(record[`${key}_token`]);
		if (content !== undefined) found[key] = content;
	}
	return found;
};

export class ClipTokenizer {
	readonly specialTokens: ClipSpecialTokens;
	readonly bosTokenId: number;
	readonly eosTokenId: number;
	readonly padTokenId: number;
	readonly unkTokenId: number;
	readonly maxLength: number;
	readonly vocabSize: number;
	/** Merges read from merges.txt (CLIP's layout: vocab = 256 bytes ×2 + merges + 2 specials). */
	readonly mergeCount: number;
	readonly #encoder: Map<string, number>;
	readonly #decoder: Map<number, string>;
	readonly #ranks: Map<string, number>;
	readonly #cache = new Map<string, string[]>();
	readonly #noSplit: RegExp;

	constructor(init: ClipTokenizerInit) {
		const origin = init.origin ?? 'the tokenizer';
		if (!init.vocab || typeof init.vocab !== 'object' || Array.isArray(init.vocab)) {
			throw configInvalid(origin, 'vocab.json', 'is not a JSON object of token → id');
		}
		this.#encoder = new Map();
		this.#decoder = new Map();
		for (const [token, id] of Object.entries(init.vocab)) {
			if (!Number.isInteger(id) || id < 0) {
				throw configInvalid(origin, 'vocab.json', `maps ${JSON.stringify(token)} to ${JSON.stringify(id)}, not a token id`);
			}
			this.#encoder.set(token, id);
			this.#decoder.set(id, token);
		}
		this.vocabSize = this.#encoder.size;
		this.#ranks = ClipTokenizer.#parseMerges(init.merges);
		this.mergeCount = this.#ranks.size;

		this.specialTokens = {...DEFAULT_SPECIAL_TOKENS, ...init.specialTokens};
		const requireId = (role: keyof ClipSpecialTokens) => {
			const id = this.#encoder.get(this.specialTokens[role]);
			if (id === undefined) {
				throw configInvalid(origin, 'vocab.json', `has no entry for the ${role} token ${JSON.stringify(this.specialTokens[role])}`);
			}
			return id;
		};
		this.bosTokenId = requireId('bos');
		this.eosTokenId = requireId('eos');
		this.unkTokenId = requireId('unk');
		// transformers maps a pad token missing from the vocab to unk.
		this.padTokenId = this.#encoder.get(this.specialTokens.pad) ?? this.unkTokenId;

		const maxLength = init.maxLength ?? SD1_MAX_LENGTH;
		if (!Number.isInteger(maxLength) || maxLength < 2) {
			throw new FateZeroError('INVALID_OPTION', `maxLength is ${String(maxLength)}; it must be a whole number ≥ 2 (SD-1.x uses 77).`);
		}
		this.maxLength = maxLength;

		// Special tokens typed in a prompt are kept whole, as transformers' no-split tokens are.
		const specials = [...new Set(Object.values(this.specialTokens).filter(Boolean))].sort((a, b) => b.length - a.length);
		this.#noSplit = new RegExp(`(${specials.map(escapeRegExp).join('|')})`);
	}

	/** Builds a tokenizer from the text of a tokenizer/ folder's files (what the Node loader reads). */
	static fromFiles(files: ClipTokenizerFiles): ClipTokenizer {
		const origin = files.origin ?? 'the tokenizer folder';
		const vocab = parseJson(files.vocabJson, origin, 'vocab.json') as Record<string, number>;
		const tokenizerConfig = files.tokenizerConfigJson === undefined ? undefined : parseJson(files.tokenizerConfigJson, origin, 'tokenizer_config.json');
		const specialTokensMap = files.specialTokensMapJson === undefined ? undefined : parseJson(files.specialTokensMapJson, origin, 'special_tokens_map.json');
		// transformers applies special_tokens_map.json over tokenizer_config.json.
		const specialTokens = {...readSpecialTokens(tokenizerConfig), ...readSpecialTokens(specialTokensMap)};
		// Configs without a limit carry 1e30 ("unbounded"); the SD-1.x text encoder has 77 positions.
		const configured = (tokenizerConfig as {model_max_length?: unknown} | undefined)?.model_max_length;
		const maxLength = typeof configured === 'number' && Number.isInteger(configured) && configured >= 2 && configured <= 4096 ? configured : SD1_MAX_LENGTH;
		return new ClipTokenizer({vocab, merges: files.mergesTxt, specialTokens, maxLength, origin});
	}

	static #parseMerges(text: string): Map<string, number> {
		const ranks = new Map<string, number>();
		// Like CLIPTokenizer: the first line is the "#version" header whatever it says, and only the
		// first 48894 merges count.
		const lines = text.trim().split('\n');
		const end = Math.min(lines.length, MAX_MERGES + 1);
		for (let i = 1; i < end; i++) {
			const line = lines[i].trim();
			const space = line.indexOf(' ');
			// Fast path for the usual "left right" line; anything else is split like Python's split().
			if (space > 0 && line.indexOf(' ', space + 1) === -1 && !/[\t\v\f\r]/.test(line)) {
				ranks.set(line, i - 1);
				continue;
			}
			const parts = line.split(/\s+/);
			if (parts.length === 2) ranks.set(`${parts[0]} ${parts[1]}`, i - 1);
		}
		return ranks;
	}

	/**
	 * Tokens and ids of a prompt with bos and eos and without truncation or padding: what
	 * `tokenizer.encode(text)` returns (and what get_word_inds walks).
	 */
	tokenize(prompt: string): {ids: number[]; tokens: string[]} {
		const tokens = [this.specialTokens.bos];
		for (const chunk of prompt.split(this.#noSplit)) {
			if (chunk === '') continue;
			if (Object.values(this.specialTokens).includes(chunk)) {
				tokens.push(chunk);
				continue;
			}
			for (const [piece] of cleanClipText(chunk).matchAll(PRE_TOKENIZER)) {
				// Special tokens that only appear after cleanup ("<|ENDOFTEXT|>") stay whole, as
				// CLIPTokenizer's pre-seeded BPE cache keeps them.
				if (CLIP_SPECIAL_LITERALS.has(piece)) tokens.push(piece);
				else tokens.push(...this.#bpe(toByteChars(piece)));
			}
		}
		tokens.push(this.specialTokens.eos);
		return {ids: tokens.map((token) => this.#encoder.get(token) ?? this.unkTokenId), tokens};
	}

	/**
	 * The fixed-length ids the text encoder takes, as the SD pipeline's
	 * `tokenizer(prompt, padding="max_length", max_length=77, truncation=True)`; unlike it, a
	 * truncated prompt comes with a warning.
	 */
	encode(prompt: string, options: ClipEncodeOptions = {}): ClipEncoding {
		const full = this.tokenize(prompt);
		const textRoom = this.maxLength - 2;
		const textTokens = full.tokens.length - 2;
		const truncated = textTokens > textRoom;
		const keptText = Math.min(textTokens, textRoom);
		const ids = [this.bosTokenId, ...full.ids.slice(1, 1 + keptText), this.eosTokenId];
		const tokens = [this.specialTokens.bos, ...full.tokens.slice(1, 1 + keptText), this.specialTokens.eos];
		while (ids.length < this.maxLength) ids.push(this.padTokenId);
		const encoding: ClipEncoding = {ids, tokens, truncated, untruncatedLength: full.ids.length};
		if (truncated) {
			const dropped = full.ids.slice(1 + keptText, -1);
			encoding.warning =
				`The prompt "${prompt.length > 60 ? `${prompt.slice(0, 57)}...` : prompt}" has ${textTokens} CLIP tokens but the text encoder ` +
				`reads only ${textRoom}: the prompt was truncated and its last ${dropped.length} tokens ("${this.decode(dropped)}") were dropped. ` +
				'Shorten the prompt if those words matter.';
			options.onWarning?.(encoding.warning);
		}
		return encoding;
	}

	/** The id of a BPE token string, or undefined when the vocabulary lacks it. */
	tokenId(token: string): number | undefined {
		return this.#encoder.get(token);
	}

	/** The merges in rank order, as "left right" (for consistency checks against the vocabulary). */
	merges(): string[] {
		return [...this.#ranks.keys()];
	}

	/** The BPE token string of an id (e.g. "car</w>"). */
	idToToken(id: number): string {
		const token = this.#decoder.get(id);
		if (token === undefined) {
			throw new FateZeroError('INVALID_INPUT', `Token id ${String(id)} is not in the CLIP vocabulary (ids 0–${this.vocabSize - 1}).`);
		}
		return token;
	}

	/** `tokenizer.decode(ids)`: byte-decoded, "</w>" read as a space, stripped, tokenization spaces cleaned up. */
	decode(ids: readonly number[]): string {
		const bytes: number[] = [];
		for (const char of ids.map((id) => this.idToToken(id)).join('')) {
			const byte = CHAR_TO_BYTE.get(char);
			if (byte === undefined) bytes.push(...utf8.encode(char));
			else bytes.push(byte);
		}
		// A token can end inside a multi-byte character; Python's errors="replace" gives U+FFFD there too.
		const text = utf8Decoder.decode(Uint8Array.from(bytes));
		return cleanUpTokenization(text.replaceAll(END_OF_WORD, ' ').replace(PY_STRIP, ''));
	}

	/** `tokenizer.decode([id])`: one token as get_word_inds sees it ("car</w>" → "car"). */
	decodeToken(id: number): string {
		return this.decode([id]);
	}

	/**
	 * prompt-to-prompt `ptp_utils.get_word_inds`: the positions (bos = 0) of the tokens of the
	 * words of `prompt` equal to `word`, or of the word at index `word`, splitting on single
	 * spaces exactly as the official code does ("countryside," is not "countryside"; a double
	 * space makes an empty word). Positions count in the untruncated sequence, so they can exceed
	 * 76 for over-long prompts. A word that is absent gives [].
	 */
	wordTokenIndices(prompt: string, word: string | number): number[] {
		const words = prompt.split(' ');
		const places =
			typeof word === 'string' ? words.flatMap((candidate, index) => (candidate === word ? [index] : [])) : [word];
		if (places.length === 0) return [];
		const decoded = this.tokenize(prompt)
			.ids.slice(1, -1)
			.map((id) => stripHashes(this.decodeToken(id)));
		const out: number[] = [];
		let consumed = 0;
		let wordIndex = 0;
		for (let i = 0; i < decoded.length; i++) {
			// Python string lengths count code points.
			consumed += codePointLength(decoded[i]);
			if (places.includes(wordIndex)) out.push(i + 1);
			// Where Python would raise IndexError (tokens left after the last word), stop instead.
			if (wordIndex >= words.length) break;
			if (consumed >= codePointLength(words[wordIndex])) {
				wordIndex++;
				consumed = 0;
			}
		}
		return out;
	}

	#bpe(token: string): string[] {
		const cached = this.#cache.get(token);
		if (cached) return cached;
		let word = Array.from(token);
		word[word.length - 1] += END_OF_WORD;
		while (word.length > 1) {
			let bestRank = Infinity;
			let first = '';
			let second = '';
			for (let i = 0; i < word.length - 1; i++) {
				const rank = this.#ranks.get(`${word[i]} ${word[i + 1]}`);
				if (rank !== undefined && rank < bestRank) {
					bestRank = rank;
					first = word[i];
					second = word[i + 1];
				}
			}
			if (bestRank === Infinity) break;
			const merged: string[] = [];
			for (let i = 0; i < word.length; ) {
				if (i < word.length - 1 && word[i] === first && word[i + 1] === second) {
					merged.push(first + second);
					i += 2;
				} else {
					merged.push(word[i]);
					i += 1;
				}
			}
			word = merged;
		}
		if (this.#cache.size >= MAX_CACHED_WORDS) this.#cache.clear();
		this.#cache.set(token, word);
		return word;
	}
}
