import {FateZeroError} from '../../errors/fatezero-error.js';
import {describeConfigValue, formatKeyPath, type KeySegment} from './config-key-path.js';
import {UnresolvedInterpolation} from './resolve-interpolations.js';

/** What reading a config reports besides the options: deviations to warn about and plain notes. */
export type ConfigReport = {
	/** Things that make the run differ from the official code, or that look like mistakes. */
	warnings: string[];
	/** Keys accepted without effect, interpolations ignored, and similar information. */
	notes: string[];
};

/** A config error: the key path, its value, what is wrong and what to write instead. */
export const configError = (path: readonly KeySegment[], value: unknown, problem: string, todo: string): FateZeroError =>
	new FateZeroError('INVALID_OPTION', `${formatKeyPath(path)} is ${describeConfigValue(value)}: ${problem}. ${todo}`);

/** Fails on an interpolation that did not resolve, naming the key, the expression and why. */
export const checkResolved = (value: unknown, path: readonly KeySegment[]): void => {
	if (value instanceof UnresolvedInterpolation) {
		throw new FateZeroError(
			'INVALID_OPTION',
			`${formatKeyPath(path)} is ${JSON.stringify(value.expression)}, an interpolation that does not resolve (${value.reason}). Write the value itself, or point the interpolation at an existing key.`,
		);
	}
};

export const isPlainMapping = (value: unknown): value is Record<string, unknown> =>
	typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof UnresolvedInterpolation);

export const readMapping = (value: unknown, path: readonly KeySegment[], todo: string): Record<string, unknown> => {
	checkResolved(value, path);
	if (!isPlainMapping(value)) throw configError(path, value, 'not a mapping of keys', todo);
	return value;
};

export const readList = (value: unknown, path: readonly KeySegment[], todo: string): unknown[] => {
	checkResolved(value, path);
	if (!Array.isArray(value)) throw configError(path, value, 'not a list', todo);
	return value;
};

export const readString = (value: unknown, path: readonly KeySegment[], todo: string): string => {
	checkResolved(value, path);
	if (typeof value !== 'string') throw configError(path, value, 'not a string', todo);
	return value;
};

// PyYAML (OmegaConf's loader) reads YAML 1.1 booleans; the YAML 1.2 parser here leaves these as strings.
const YAML11_BOOLEANS: Record<string, boolean> = {yes: true, no: false, on: true, off: false, y: true, n: false};

export const readBoolean = (value: unknown, path: readonly KeySegment[]): boolean => {
	checkResolved(value, path);
	if (typeof value === 'boolean') return value;
	if (typeof value === 'string' && Object.hasOwn(YAML11_BOOLEANS, value.toLowerCase())) return YAML11_BOOLEANS[value.toLowerCase()];
	throw configError(path, value, 'not true or false', 'Write True or False.');
};

export type NumberRule = {integer?: boolean; min?: number; max?: number; todo: string};

export const readNumber = (value: unknown, path: readonly KeySegment[], rule: NumberRule): number => {
	checkResolved(value, path);
	if (typeof value !== 'number') throw configError(path, value, 'not a number', rule.todo);
	if (Number.isNaN(value)) throw configError(path, value, 'not a number (NaN)', rule.todo);
	if (!Number.isFinite(value)) throw configError(path, value, 'not finite', rule.todo);
	if (rule.integer && !Number.isInteger(value)) throw configError(path, value, 'not a whole number', rule.todo);
	if (rule.min !== undefined && value < rule.min) throw configError(path, value, `below ${rule.min}`, rule.todo);
	if (rule.max !== undefined && value > rule.max) throw configError(path, value, `above ${rule.max}`, rule.todo);
	return value;
};

/**
 * How a mapping's keys are treated: 'used' keys are read by the caller; a string is a note for
 * a key accepted without effect; `{warning}` for a key accepted whose effect is not reproduced.
 * Keys not listed get a warning that they are unknown and ignored.
 */
export type KeyRules = Record<string, 'used' | string | {warning: string}>;

export const applyKeyRules = (mapping: Record<string, unknown>, path: readonly KeySegment[], rules: KeyRules, report: ConfigReport, unknownHint = ''): void => {
	for (const key of Object.keys(mapping)) {
		const keyPath = formatKeyPath([...path, key]);
		if (!Object.hasOwn(rules, key)) {
			report.warnings.push(`${keyPath} is not a key the official FateZero code reads here; ignored.${unknownHint}`);
			continue;
		}
		const rule = rules[key];
		if (rule === 'used') continue;
		if (typeof rule === 'string') report.notes.push(`${keyPath}: ${rule}`);
		else report.warnings.push(`${keyPath}: ${rule.warning}`);
	}
};
