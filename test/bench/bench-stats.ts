/** Small helpers shared by the benchmarks: timing loops, medians, memory and number formatting. */

export type Timings = {
	/** Warm-up run times (ms), not used for the figures: ORT's first runs of a shape are 2–6× slower. */
	warmup: number[];
	/** Timed run times (ms). */
	timed: number[];
	median: number;
	/**
	 * Per timed run: CPU time this process got ÷ (wall time × threads). About 1 when ORT had the
	 * cores to itself; lower when other processes took them, whatever the load average says
	 * (which counts this benchmark's own threads too).
	 */
	cpuShare: number[];
};

export const median = (values: readonly number[]): number => {
	const sorted = [...values].sort((a, b) => a - b);
	const mid = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/**
 * Runs `run` `warmup` times, then `runs` times; only the latter make the median, all times are
 * kept for the table. `threads`: the intra-op threads ORT uses, for the CPU share.
 */
export const timeRuns = async (run: () => Promise<unknown>, warmup: number, runs: number, threads: number): Promise<Timings> => {
	const once = async () => {
		const cpuStart = process.cpuUsage();
		const start = performance.now();
		await run();
		const ms = performance.now() - start;
		const cpu = process.cpuUsage(cpuStart);
		return {ms, share: (cpu.user + cpu.system) / 1000 / (ms * threads)};
	};
	const result: Timings = {warmup: [], timed: [], median: 0, cpuShare: []};
	for (let i = 0; i < warmup; i++) result.warmup.push((await once()).ms);
	for (let i = 0; i < runs; i++) {
		const {ms, share} = await once();
		result.timed.push(ms);
		result.cpuShare.push(share);
	}
	result.median = median(result.timed);
	return result;
};

/** Peak resident set size of this process so far, worker threads included (MiB). */
export const peakRssMb = (): number => process.resourceUsage().maxRSS / 1024;

/** Rounds for the JSON line: enough digits to compare commits, not float noise. */
export const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

export const seconds = (ms: number): number => round(ms / 1000, 2);
