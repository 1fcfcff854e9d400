/** Small helpers shared by the benchmarks: timing loops, medians, memory and number formatting. */
import {readFileSync} from 'node:fs';
import os from 'node:os';

export type Timings = {
	/** Warm-up run times (ms), not used for the figures: ORT's first runs of a shape are 2–6× slower. */
	warmup: number[];
	/** Timed run times (ms). */
	timed: number[];
	median: number;
	/**
	 * Per timed run: CPU time this process got ÷ (wall time × `cores`, the cores it may use). About 1
	 * when ORT kept every core busy; lower when ORT left cores idle (too few threads) or when other
	 * processes took them: `othersShare` tells which.
	 */
	cpuShare: number[];
	/**
	 * Over all timed runs: the CPU time the rest of the machine used (other processes, and the
	 * hypervisor's steal time) ÷ (wall time × all CPUs), from /proc/stat; null where it cannot be read.
	 */
	othersShare: number | null;
};

export const median = (values: readonly number[]): number => {
	const sorted = [...values].sort((a, b) => a - b);
	const mid = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

// /proc/stat counts in USER_HZ ticks, 100 per second on every Linux ABI Node runs on.
const TICK_MS = 10;

/** Busy CPU time of the whole machine so far (ms, all CPUs): user+nice+system+irq+softirq+steal; null off Linux. */
export const machineBusyMs = (): number | null => {
	try {
		const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
		const [user, nice, system, , , irq, softirq, steal] = fields;
		return (user + nice + system + irq + softirq + (steal ?? 0)) * TICK_MS;
	} catch {
		return null;
	}
};

const ownCpuMs = () => {
	const {user, system} = process.cpuUsage();
	return (user + system) / 1000;
};

/**
 * Runs `run` `warmup` times, then `runs` times; only the latter make the median, all times are
 * kept for the table. `cores`: the cores this process may use, the denominator of the CPU share.
 */
export const timeRuns = async (run: () => Promise<unknown>, warmup: number, runs: number, cores: number): Promise<Timings> => {
	const once = async () => {
		const cpuStart = ownCpuMs();
		const start = performance.now();
		await run();
		const ms = performance.now() - start;
		return {ms, share: (ownCpuMs() - cpuStart) / (ms * cores)};
	};
	const result: Timings = {warmup: [], timed: [], median: 0, cpuShare: [], othersShare: null};
	for (let i = 0; i < warmup; i++) result.warmup.push((await once()).ms);
	const machineStart = machineBusyMs();
	const ownStart = ownCpuMs();
	const wallStart = performance.now();
	for (let i = 0; i < runs; i++) {
		const {ms, share} = await once();
		result.timed.push(ms);
		result.cpuShare.push(share);
	}
	const machineEnd = machineBusyMs();
	if (machineStart !== null && machineEnd !== null) {
		const others = Math.max(0, machineEnd - machineStart - (ownCpuMs() - ownStart));
		result.othersShare = others / ((performance.now() - wallStart) * os.cpus().length);
	}
	result.median = median(result.timed);
	return result;
};

/** Peak resident set size of this process so far, worker threads included (MiB). */
export const peakRssMb = (): number => process.resourceUsage().maxRSS / 1024;

/** Rounds for the JSON line: enough digits to compare commits, not float noise. */
export const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

export const seconds = (ms: number): number => round(ms / 1000, 2);
