import {existsSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {parseJsonWithLimits} from '../clip/clip-limits.js';
import {FateZeroError} from '../errors/fatezero-error.js';

/** One output of a batch: a name (the output file's stem) and the props it overrides. */
export type RenderVariant = {name: string; props: Record<string, unknown>};

// The name becomes `<out-dir>/<name>.<ext>`: no separators, no leading dot (hidden files, `..`),
// nothing a shell or Windows would trip over.
const FILE_SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const KNOWN_KEYS = new Set(['name', 'props']);

const isPlainObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

const describe = (value: unknown): string => (Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`);

/**
 * Validates a variants list (`[{name, props}, …]` or `{variants: [...]}`) as a whole: every
 * problem of every entry is reported in one error, so a batch never starts half-valid. `origin`
 * names the file in messages.
 */
export const parseVariants = (value: unknown, origin = 'variants'): RenderVariant[] => {
	const list = isPlainObject(value) && 'variants' in value ? value.variants : value;
	if (!Array.isArray(list)) {
		throw new FateZeroError('INVALID_INPUT', `${origin} must be a JSON array of {"name", "props"} objects (or {"variants": [...]}); got ${describe(list)}.`);
	}
	if (list.length === 0) throw new FateZeroError('INVALID_INPUT', `${origin} lists no variants. Add at least one {"name": "…", "props": {…}} entry.`);
	const problems: string[] = [];
	const variants: RenderVariant[] = [];
	const seen = new Map<string, number>();
	list.forEach((entry: unknown, i) => {
		const where = `variant ${i + 1}`;
		if (!isPlainObject(entry)) {
			problems.push(`${where} must be an object {"name", "props"}; got ${describe(entry)}`);
			return;
		}
		const unknown = Object.keys(entry).filter((key) => !KNOWN_KEYS.has(key));
		if (unknown.length > 0) problems.push(`${where} has unknown ${unknown.length === 1 ? 'key' : 'keys'} ${unknown.map((k) => JSON.stringify(k)).join(', ')} (only "name" and "props" are read; composition props go inside "props")`);
		const {name, props = {}} = entry;
		if (typeof name !== 'string' || !FILE_SAFE_NAME.test(name)) {
			problems.push(`${where}: "name" must be a file-safe name (letters, digits, ".", "_", "-"; starting with a letter or digit; at most 100 characters), because it names the output file; got ${name === undefined ? 'nothing' : JSON.stringify(name)}`);
		} else {
			// Case-insensitive: on macOS and Windows "Red" and "red" would write the same file.
			const first = seen.get(name.toLowerCase());
			if (first !== undefined) problems.push(`${where}: name ${JSON.stringify(name)} is already used by variant ${first + 1} (names must be unique, ignoring case)`);
			else seen.set(name.toLowerCase(), i);
		}
		if (!isPlainObject(props)) problems.push(`${where}${typeof name === 'string' ? ` ("${name}")` : ''}: "props" must be a JSON object of composition props; got ${describe(props)}`);
		if (typeof name === 'string' && isPlainObject(props)) variants.push({name, props});
	});
	if (problems.length > 0) {
		throw new FateZeroError('INVALID_INPUT', `${origin} is invalid; nothing was rendered. Fix ${problems.length === 1 ? 'this' : `these ${problems.length} problems`}:\n  - ${problems.join('\n  - ')}`);
	}
	return variants;
};

/** Reads and validates a variants JSON file (`fatezero render --variants FILE`). */
export const readVariantsFile = (file: string): RenderVariant[] => {
	const resolved = path.resolve(file);
	if (!existsSync(resolved)) throw new FateZeroError('INVALID_OPTION', `--variants ${resolved} does not exist. Pass a JSON file with an array of {"name", "props"} objects.`);
	let value: unknown;
	try {
		value = parseJsonWithLimits(readFileSync(resolved, 'utf8'), `--variants ${resolved}`);
	} catch (error) {
		throw new FateZeroError('INVALID_INPUT', `${(error as Error).message.replace(/\.$/, '')}. It must hold an array of {"name", "props"} objects.`);
	}
	return parseVariants(value, path.basename(resolved));
};
