import {FateZeroError} from '../errors/fatezero-error.js';
import {formatFieldPath} from './format-schema-issues.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | {[key: string]: JsonValue};

const isPlainObject = (value: object): boolean => {
	const proto = Object.getPrototypeOf(value);
	return proto === Object.prototype || proto === null;
};

const reject = (path: PropertyKey[], what: string): never => {
	throw new FateZeroError(
		'INVALID_INPUT',
		`canonicalJson: ${path.length ? formatFieldPath(path) : 'the value'} is ${what}, which has no single JSON form. Pass plain objects, arrays, strings, finite numbers, booleans and null.`,
	);
};

const write = (value: unknown, path: PropertyKey[]): string => {
	if (value === null) return 'null';
	switch (typeof value) {
		case 'string':
		case 'boolean':
			return JSON.stringify(value);
		case 'number':
			// NaN and ±Infinity would all become null and collide; -0 becomes 0 as in JSON.
			return Number.isFinite(value) ? JSON.stringify(value) : reject(path, String(value));
		case 'object': {
			if (Array.isArray(value)) {
				return `[${value.map((item, i) => (item === undefined ? reject([...path, i], 'undefined') : write(item, [...path, i]))).join(',')}]`;
			}
			if (!isPlainObject(value)) return reject(path, `a ${value.constructor?.name ?? 'non-plain'} object`);
			const record = value as Record<string, unknown>;
			// Code-unit order, the same in every engine; undefined fields are absent, as in JSON.
			const keys = Object.keys(record)
				.filter((k) => record[k] !== undefined)
				.sort();
			return `{${keys.map((k) => `${JSON.stringify(k)}:${write(record[k], [...path, k])}`).join(',')}}`;
		}
		default:
			return reject(path, typeof value);
	}
};

/**
 * The canonical JSON text of a value: object keys sorted, undefined fields dropped, no
 * whitespace, numbers as JSON writes them. Equal data gives equal text, in Node and in the
 * browser, which is what makes it hashable into cache keys.
 */
export const canonicalJson = (value: unknown): string => (value === undefined ? reject([], 'undefined') : write(value, []));
