/** Small helpers shared by the benchmarks: timing loops, medians, memory and number formatting. */

export type Timings = {
	/** Warm-up run times (ms), not used for the figures: ORT's first runs of a shape are 2–6× slower. */
	warmup: number[];
	/** Timed run times (ms). */
	timed: number[];
	median: number;
};

export const median = (values: readonly number[]): number => {
	const sorted = [...values].sort((a, b) => a - b);
	const mid = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Runs `run` `warmup` times untimed-for-the-result, then `runs` times, and returns every time. */
export const timeRuns = async (run: () => Promise<unknown>, warmup: number, runs: number): Promise<Timings> => {
	const once = async () => {
		const start = performance.now();
		await run();
		return performance.now() - start;
	};
	const result: Timings = {warmup: [], timed: [], median: 0};
	for (let i = 0; i < warmup; i++) result.warmup.push(await once());
	for (let i = 0; i < runs; i++) result.timed.push(await once());
	result.median = median(result.timed);
	return result;
};

/** Peak resident set size of this process so far, worker threads included (MiB). */
export const peakRssMb = (): number => process.resourceUsage().maxRSS / 1024;

/** Rounds for the JSON line: enough digits to compare commits, not float noise. */
export const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

export const seconds = (ms: number): number => round(ms / 1000, 2);
