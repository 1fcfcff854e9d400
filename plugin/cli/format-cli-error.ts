import {FateZeroError} from '../errors/fatezero-error.js';

/** One readable block for the terminal: the code for FateZeroErrors, the stack for bugs. */
export const formatCliError = (error: unknown): string => {
	if (error instanceof FateZeroError) return `✖ ${error.message}\n  (error code ${error.code})`;
	if (error instanceof Error && error.name === 'AbortError') return '✖ Cancelled.';
	if (error instanceof Error) return `✖ Unexpected error: ${error.stack ?? error.message}\n  This is a bug in remotion-fatezero; please report it with the command you ran.`;
	return `✖ ${String(error)}`;
};
