import {FateZeroError} from '../errors/fatezero-error.js';

/** Runs a node:util parseArgs call, turning its errors into ones that name the command and point at --help. */
export const withArgErrors = <T>(command: string, parse: () => T): T => {
	try {
		return parse();
	} catch (error) {
		throw new FateZeroError('INVALID_OPTION', `fatezero ${command}: ${(error as Error).message}. Run "fatezero ${command} --help".`);
	}
};

/** A positive integer option, or its default; anything else is a clear error. */
export const integerOption = (name: string, value: string | undefined, fallback: number, min = 1): number => {
	if (value === undefined) return fallback;
	const parsed = Number(value);
	if (!Number.isInteger(parsed) || parsed < min) {
		throw new FateZeroError('INVALID_OPTION', `--${name} must be a whole number ≥ ${min}; got "${value}".`);
	}
	return parsed;
};
