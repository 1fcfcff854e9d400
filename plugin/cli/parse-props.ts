import {existsSync, readFileSync} from 'node:fs';
import {parseJsonWithLimits} from '../clip/clip-limits.js';
import {FateZeroError} from '../errors/fatezero-error.js';

/** `--props` as `npx remotion` takes it: inline JSON or the path of a JSON file. */
export const parsePropsOption = (value: string | undefined): Record<string, unknown> => {
	if (value === undefined) return {};
	const text = existsSync(value) ? readFileSync(value, 'utf8') : value;
	try {
		const parsed = parseJsonWithLimits(text, '--props');
		if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
		return parsed as Record<string, unknown>;
	} catch (error) {
		throw new FateZeroError('INVALID_OPTION', `--props must be a JSON object or the path of a JSON file; got ${JSON.stringify(value.slice(0, 80))} (${(error as Error).message}).`);
	}
};
