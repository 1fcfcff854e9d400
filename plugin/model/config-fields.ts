import {FateZeroError} from '../errors/fatezero-error.js';

/** A parsed config and the notes worth showing the user (nothing fatal). */
export type ParsedConfig<T> = {config: T; warnings: string[]};

/** What to say after "this is not a supported model", shared by every component check. */
export const PASS_SD1_FOLDER =
	'Pass --model (or set FATEZERO_MODEL) with a Stable Diffusion 1.x folder in diffusers layout, e.g. a download of CompVis/stable-diffusion-v1-4 or stable-diffusion-v1-5/stable-diffusion-v1-5.';

const show = (value: unknown): string => (value === undefined ? 'missing' : JSON.stringify(value));

/** MODEL_UNSUPPORTED for a config that is valid for diffusers but describes another architecture. */
export const unsupportedModel = (path: string, detail: string): FateZeroError =>
	new FateZeroError('MODEL_UNSUPPORTED', `${path}: ${detail}. remotion-fatezero runs Stable Diffusion 1.x models only. ${PASS_SD1_FOLDER}`);

/**
 * Typed access to the keys of one config.json. diffusers and transformers fill every key a file
 * omits with the class default, so the getters take that default; `null` counts as absent
 * because save_config writes `null` for defaults that are None. Wrong types are
 * MODEL_CONFIG_INVALID naming the file, the key and the value.
 */
export class ConfigFields {
	private constructor(
		readonly path: string,
		readonly raw: Record<string, unknown>,
		/** e.g. "diffusers UNet2DConditionModel", for "a ... config always has it". */
		readonly kind: string,
		/** Prefix for nested configs ("text_config."), so messages name the key as written. */
		readonly keyPrefix = '',
	) {}

	static of(raw: unknown, path: string, kind: string): ConfigFields {
		if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
			throw new FateZeroError(
				'MODEL_CONFIG_INVALID',
				`${path} is not a JSON object (it holds ${show(raw).slice(0, 80)}). Download config.json again with the weights.`,
			);
		}
		return new ConfigFields(path, raw as Record<string, unknown>, kind);
	}

	nested(key: string, kind: string): ConfigFields {
		const value = this.raw[key];
		if (typeof value !== 'object' || value === null || Array.isArray(value)) {
			throw this.invalid(key, value, 'an object');
		}
		return new ConfigFields(this.path, value as Record<string, unknown>, kind, `${this.keyPrefix}${key}.`);
	}

	/** The raw value, `undefined` when absent or null. */
	get(key: string): unknown {
		const value = this.raw[key];
		return value === null ? undefined : value;
	}

	has(key: string): boolean {
		return this.get(key) !== undefined;
	}

	missing(key: string): FateZeroError {
		return new FateZeroError(
			'MODEL_CONFIG_INVALID',
			`${this.path} has no "${this.keyPrefix}${key}" key, which a ${this.kind} config always has: the file is incomplete or belongs to another kind of model. Download config.json again together with the weights.`,
		);
	}

	invalid(key: string, value: unknown, expected: string): FateZeroError {
		return new FateZeroError(
			'MODEL_CONFIG_INVALID',
			`${this.path}: "${this.keyPrefix}${key}" is ${show(value)}, expected ${expected}. Fix the value or download config.json again.`,
		);
	}

	private take<T>(key: string, fallback: T | undefined, check: (value: unknown) => value is T, expected: string): T {
		const value = this.get(key);
		if (value === undefined) {
			if (fallback === undefined) throw this.missing(key);
			return fallback;
		}
		if (!check(value)) throw this.invalid(key, value, expected);
		return value;
	}

	/** `fallback` undefined makes the key required. */
	string(key: string, fallback?: string): string {
		return this.take(key, fallback, (v): v is string => typeof v === 'string', 'a string');
	}

	number(key: string, fallback?: number): number {
		return this.take(key, fallback, (v): v is number => typeof v === 'number' && Number.isFinite(v), 'a number');
	}

	positiveNumber(key: string, fallback?: number): number {
		return this.take(key, fallback, (v): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0, 'a positive number');
	}

	int(key: string, fallback?: number, min = 1): number {
		return this.take(key, fallback, (v): v is number => Number.isInteger(v) && (v as number) >= min, `an integer >= ${min}`);
	}

	bool(key: string, fallback?: boolean): boolean {
		return this.take(key, fallback, (v): v is boolean => typeof v === 'boolean', 'true or false');
	}

	intList(key: string, fallback?: number[]): number[] {
		return this.take(
			key,
			fallback,
			(v): v is number[] => Array.isArray(v) && v.length > 0 && v.every((x) => Number.isInteger(x) && x > 0),
			'a non-empty list of positive integers',
		);
	}

	stringList(key: string, fallback?: string[]): string[] {
		return this.take(
			key,
			fallback,
			(v): v is string[] => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string'),
			'a non-empty list of strings',
		);
	}

	/**
	 * A positive integer, or (newer diffusers) a list with one per block. Our graph types hold one
	 * value, so a list must repeat one value; `count` is checked against the number of blocks.
	 */
	sameIntOrList(key: string, fallback: number | undefined, count: number): number {
		const value = this.get(key);
		if (!Array.isArray(value)) return this.int(key, fallback);
		const list = this.intList(key);
		if (list.length !== count) throw this.invalid(key, value, `one integer, or a list of ${count} (one per down block)`);
		if (list.some((x) => x !== list[0])) {
			throw unsupportedModel(this.path, `"${this.keyPrefix}${key}" varies per block (${show(value)}); SD-1.x uses one value for every block`);
		}
		return list[0];
	}

	/**
	 * Architecture switches that SD-1.x leaves at their default: any other value builds a different
	 * network than ours, so it must be refused, not ignored. Absent and null pass.
	 */
	expectDefault(key: string, isDefault: (value: unknown) => boolean, sd1Value: string, meaning: string): void {
		const value = this.get(key);
		if (value === undefined || isDefault(value)) return;
		throw unsupportedModel(this.path, `"${this.keyPrefix}${key}" is ${show(value)} (${meaning}); SD-1.x has ${sd1Value}`);
	}
}

/** `isDefault` helpers for expectDefault. */
export const equals =
	(...allowed: unknown[]) =>
	(value: unknown): boolean =>
		allowed.includes(value);

/** A boolean switch, or a per-block list of them, that must be all false. */
export const allFalse = (value: unknown): boolean =>
	value === false || (Array.isArray(value) && value.every((x) => x === false));

/** An integer, or per-block list, that must be all `n`. */
export const allEqual =
	(n: number) =>
	(value: unknown): boolean =>
		value === n || (Array.isArray(value) && value.every((x) => x === n || (Array.isArray(x) && x.every((y) => y === n))));
