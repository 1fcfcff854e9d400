import {FateZeroError} from '../errors/fatezero-error.js';

/**
 * What the engine can run, in one place: the descriptor schema, the CLI flags, configs and the
 * job server all check against these, so no value the schema accepts fails later with a crash.
 * Browser-safe.
 */
export const CLIP_LIMITS = {
	/**
	 * DDIM steps. SD-1.x schedulers have 1000 train timesteps and steps_offset 1: with N steps the
	 * first timestep is (N − 1)·⌊1000 / N⌋ + 1, which is 1000 (out of range) for N = 1000 and at
	 * most 999 below it.
	 */
	maxSteps: 999,
	/** Pixel side. The VAE works on 8× smaller latents; SD-1.x is trained at 512, and above 1024 its self-attention alone needs tens of GB per frame. */
	sizeMultiple: 8,
	minSize: 8,
	maxSize: 1024,
	/** Characters of a prompt. CLIP reads 75 tokens (a few hundred characters); the rest is cut off with a warning. */
	maxPromptChars: 1000,
	/** Characters of a label as stored; displays cut it to `displayLabelChars`. */
	maxLabelChars: 1000,
	displayLabelChars: 60,
	/** Nesting of descriptor JSON (a descriptor itself is 4 levels deep; props and variants files add a few). */
	maxJsonDepth: 64,
	/** Bytes of descriptor / props / variants JSON text. */
	maxJsonBytes: 4 * 1024 * 1024,
} as const;

const invalid = (message: string) => new FateZeroError('INVALID_OPTION', message);

/** `name` must hold visible text and at most maxPromptChars characters. Returns the prompt as given. */
export const checkPrompt = (value: unknown, name: string): string => {
	if (typeof value !== 'string' || value.trim() === '') {
		throw invalid(`${name} is ${JSON.stringify(value) ?? String(value)}; it must be a non-blank prompt describing the frames, e.g. "a silver jeep driving down a curvy road".`);
	}
	if (value.length > CLIP_LIMITS.maxPromptChars) {
		throw invalid(`${name} has ${value.length} characters; the limit is ${CLIP_LIMITS.maxPromptChars} (CLIP reads only the first 75 tokens anyway). Shorten it.`);
	}
	return value;
};

/** Classifier-free guidance: a finite number ≥ 0. */
export const checkGuidance = (value: unknown, name: string): number => {
	if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
		throw invalid(`${name} is ${String(value)}; it must be a number ≥ 0 (7.5 is FateZero's default; 0 turns guidance off).`);
	}
	return value;
};

/** DDIM steps: a whole number in [1, maxSteps]. */
export const checkSteps = (value: unknown, name: string): number => {
	if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > CLIP_LIMITS.maxSteps) {
		throw invalid(`${name} is ${String(value)}; it must be a whole number from 1 to ${CLIP_LIMITS.maxSteps} (the scheduler's 1000 timesteps with steps_offset 1 allow no more). FateZero uses 50; 10 is a fast preview.`);
	}
	return value;
};

/** The pixel multiple a model needs: the VAE's 8× times 2 per UNet downsampling (64 for SD-1.x's 4 levels). */
export const sizeMultipleForModel = (unetLevels: number): number => CLIP_LIMITS.sizeMultiple * 2 ** Math.max(0, unetLevels - 1);

/**
 * The frame side: bounded, and a multiple of what the model needs when its UNet level count is
 * known. Call it before importing anything, so a wrong size costs no decoding.
 */
export const checkSize = (value: unknown, name: string, model: {unetLevels?: number; dir?: string} = {}): number => {
	const multiple = model.unetLevels === undefined ? CLIP_LIMITS.sizeMultiple : sizeMultipleForModel(model.unetLevels);
	const ok = typeof value === 'number' && Number.isInteger(value) && value >= Math.max(CLIP_LIMITS.minSize, multiple) && value <= CLIP_LIMITS.maxSize && value % multiple === 0;
	if (!ok) {
		const n = typeof value === 'number' && Number.isFinite(value) ? value : 512;
		const suggestion = Math.min(Math.floor(CLIP_LIMITS.maxSize / multiple) * multiple, Math.max(multiple, Math.round(n / multiple) * multiple));
		const why = model.unetLevels === undefined ? 'the VAE works on 8× smaller latents' : `the model${model.dir ? ` ${model.dir}` : ''} has ${model.unetLevels} UNet levels on 8× smaller latents`;
		throw invalid(`${name} is ${String(value)}; it must be a whole multiple of ${multiple} (${why}) from ${Math.max(CLIP_LIMITS.minSize, multiple)} to ${CLIP_LIMITS.maxSize}, e.g. ${suggestion}.`);
	}
	return value;
};

/** A label cut for one line of a table, a progress bar or an event: the first displayLabelChars characters. */
export const displayLabel = (label: string, maxChars: number = CLIP_LIMITS.displayLabelChars): string => {
	const oneLine = label.replace(/\s+/g, ' ').trim();
	const chars = [...oneLine];
	return chars.length <= maxChars ? oneLine : `${chars.slice(0, maxChars - 1).join('')}…`;
};

/**
 * Checks an already parsed value against the JSON limits without recursion (a hostile value must
 * not overflow the stack here either): nesting at most maxJsonDepth. Throws INVALID_OPTION naming
 * `origin`.
 */
export const checkJsonDepth = (value: unknown, origin: string, maxDepth: number = CLIP_LIMITS.maxJsonDepth): void => {
	const stack: [unknown, number][] = [[value, 0]];
	const seen = new Set<object>();
	while (stack.length > 0) {
		const [item, depth] = stack.pop()!;
		if (item === null || typeof item !== 'object') continue;
		if (depth >= maxDepth) throw invalid(`${origin} is nested more than ${maxDepth} levels deep; a clip descriptor needs 4. Remove the extra nesting.`);
		if (seen.has(item)) throw invalid(`${origin} contains a cycle (an object inside itself); pass plain JSON data.`);
		seen.add(item);
		for (const child of Object.values(item)) stack.push([child, depth + 1]);
	}
};

/**
 * JSON.parse with limits checked first, on the text: its size, and its nesting (counted in one
 * pass outside strings, because JSON.parse itself recurses and a deeply nested text overflows
 * the stack). For descriptor files, --props, variants files and job requests.
 */
export const parseJsonWithLimits = (text: string, origin: string, limits: {maxBytes?: number; maxDepth?: number} = {}): unknown => {
	const maxBytes = limits.maxBytes ?? CLIP_LIMITS.maxJsonBytes;
	const maxDepth = limits.maxDepth ?? CLIP_LIMITS.maxJsonDepth;
	// UTF-16 length ≤ UTF-8 bytes ≤ 3× it: check the cheap bound first.
	const bytes = text.length > maxBytes ? text.length : new TextEncoder().encode(text).length;
	if (bytes > maxBytes) throw invalid(`${origin} is ${bytes} bytes of JSON; the limit is ${maxBytes}. A descriptor is well under 10 kB: pass the data it refers to by path.`);
	let depth = 0;
	let inString = false;
	for (let i = 0; i < text.length; i++) {
		const c = text.charCodeAt(i);
		if (inString) {
			if (c === 0x5c) i++; // backslash: skip the escaped character
			else if (c === 0x22) inString = false;
		} else if (c === 0x22) inString = true;
		else if (c === 0x7b || c === 0x5b) {
			if (++depth > maxDepth) throw invalid(`${origin} is nested more than ${maxDepth} levels deep; a clip descriptor needs 4. Remove the extra nesting.`);
		} else if (c === 0x7d || c === 0x5d) depth--;
	}
	try {
		return JSON.parse(text) as unknown;
	} catch (error) {
		throw invalid(`${origin} is not valid JSON (${(error as Error).message}).`);
	}
};
