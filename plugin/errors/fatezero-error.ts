/**
 * Every error the plugin throws on purpose is a FateZeroError with a stable `code`, so callers
 * (and tests) can branch on the code instead of matching message text. Messages follow one
 * pattern: what was wrong, the offending value, and what to do about it.
 */
export type FateZeroErrorCode =
	// model folder and weights
	| 'MODEL_FOLDER_MISSING'
	| 'MODEL_FILE_MISSING'
	| 'MODEL_CONFIG_INVALID'
	| 'MODEL_UNSUPPORTED'
	| 'MODEL_WEIGHTS_PICKLE'
	| 'MODEL_WEIGHTS_INVALID'
	| 'MODEL_WEIGHTS_MISMATCH'
	| 'MODEL_NOT_CONFIGURED'
	// runtime
	| 'PROVIDER_UNAVAILABLE'
	| 'PROVIDER_UNKNOWN'
	| 'SESSION_DISPOSED'
	| 'INFERENCE_FAILED'
	// frame cache
	| 'CACHE_CORRUPT'
	| 'CACHE_LOCKED'
	| 'CACHE_WRITE_FAILED'
	// inputs and options
	| 'INVALID_OPTION'
	| 'INVALID_INPUT'
	| 'ABORTED'
	// distributed workers (Redis queue)
	| 'QUEUE_UNAVAILABLE'
	// media tools (Remotion's ffmpeg/ffprobe)
	| 'MEDIA_TOOLS_MISSING';

export class FateZeroError extends Error {
	readonly code: FateZeroErrorCode;

	constructor(code: FateZeroErrorCode, message: string, options?: {cause?: unknown}) {
		super(message, options);
		this.name = 'FateZeroError';
		this.code = code;
	}
}

export const isFateZeroError = (error: unknown, code?: FateZeroErrorCode): error is FateZeroError =>
	error instanceof FateZeroError && (code === undefined || error.code === code);
