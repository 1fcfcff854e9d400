/** Progress of one clip job, for bars, the Studio card and `--json` event streams. */
export type JobProgress = {
	/** Which job (its label or descriptor key). */
	job: string;
	stage: 'queued' | 'import' | 'load' | 'invert' | 'edit' | 'decode' | 'publish' | 'wait' | 'done';
	step: number;
	total: number;
	/** Seconds left in this stage, from the pace so far; null before a pace exists. */
	etaSeconds: number | null;
};

export type OnJobProgress = (event: JobProgress) => void;

/** Turns (step, total) ticks into events with an ETA for the current stage. */
export const progressTracker = (job: string, onProgress: OnJobProgress | undefined) => {
	let stage: JobProgress['stage'] | null = null;
	let started = 0;
	return (next: JobProgress['stage'], step: number, total: number) => {
		const now = performance.now();
		if (next !== stage) {
			stage = next;
			started = now;
		}
		const elapsed = (now - started) / 1000;
		const etaSeconds = step > 0 && total > step ? (elapsed / step) * (total - step) : step >= total && total > 0 ? 0 : null;
		onProgress?.({job, stage: next, step, total, etaSeconds});
	};
};
