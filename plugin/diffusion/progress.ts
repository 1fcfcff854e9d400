/** Progress of a long operation: which stage, how far (step of total), for bars and ETAs. */
export type ProgressEvent = {
	stage: 'load' | 'encode-prompts' | 'vae-encode' | 'invert' | 'denoise' | 'vae-decode' | 'write';
	step: number;
	total: number;
};

export type OnProgress = (event: ProgressEvent) => void;

/** Throws the signal's reason (an AbortError) when it was aborted: call between steps. */
export const throwIfAborted = (signal: AbortSignal | undefined): void => {
	signal?.throwIfAborted();
};
