/** Progress of one clip job, for bars, the Studio card and `--json-progress` event streams. */
export type JobProgress = {
	/** Which job (its label or descriptor key). */
	job: string;
	stage: 'queued' | 'import' | 'load' | 'invert' | 'edit' | 'decode' | 'publish' | 'wait' | 'done';
	step: number;
	total: number;
	/** Seconds left in this stage, from the pace so far; null before a pace exists. */
	etaSeconds: number | null;
	/**
	 * The engine's warnings for this clip so far (a prompt cut at 77 tokens, blend or reweight words
	 * not found in a prompt): on every event once there are any, so a late listener still sees them.
	 */
	warnings?: string[];
};

export type OnJobProgress = (event: JobProgress) => void;

export type ProgressTick = ((next: JobProgress['stage'], step: number, total: number) => void) & {
	/** Records warnings and reports them with the current stage at once. */
	warn: (warnings: readonly string[]) => void;
};

/** Turns (step, total) ticks into events with an ETA for the current stage. */
export const progressTracker = (job: string, onProgress: OnJobProgress | undefined): ProgressTick => {
	let stage: JobProgress['stage'] | null = null;
	let started = 0;
	let last = {step: 0, total: 1};
	const warnings: string[] = [];
	const emit = (next: JobProgress['stage'], step: number, total: number) => {
		const now = performance.now();
		if (next !== stage) {
			stage = next;
			started = now;
		}
		last = {step, total};
		const elapsed = (now - started) / 1000;
		const etaSeconds = step > 0 && total > step ? (elapsed / step) * (total - step) : step >= total && total > 0 ? 0 : null;
		onProgress?.({job, stage: next, step, total, etaSeconds, ...(warnings.length ? {warnings: [...warnings]} : {})});
	};
	return Object.assign(emit, {
		warn(added: readonly string[]) {
			const fresh = added.filter((w) => !warnings.includes(w));
			if (fresh.length === 0) return;
			warnings.push(...fresh);
			emit(stage ?? 'queued', last.step, last.total);
		},
	});
};
