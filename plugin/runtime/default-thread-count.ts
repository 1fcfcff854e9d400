import {readFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {FateZeroError} from '../errors/fatezero-error.js';

/** Where an intra-op thread count came from. */
export type ThreadCountSource = 'option' | 'FATEZERO_THREADS env' | 'cgroup cpu.max' | 'cgroup cpu.cfs_quota_us' | 'availableParallelism';

export type ThreadCount = {
	threads: number;
	source: ThreadCountSource;
	/** One line for logs and `fatezero doctor`, e.g. "2 (availableParallelism)" or "1 (cgroup cpu.max: 150000/100000 in /sys/fs/cgroup)". */
	describe: string;
};

export type ThreadCountOptions = {
	/** An explicit count (a --threads flag, the project config, RuntimeOptions.intraOpThreads); wins when set. */
	threads?: number | null;
	/** Default process.env; FATEZERO_THREADS is read from it. */
	env?: NodeJS.ProcessEnv;
	/** Prefix for /proc and /sys (tests point it at a fake tree). Default '/'. */
	fsRoot?: string;
	/** Default os.availableParallelism() (it respects the CPU affinity mask, not cgroup quotas). */
	availableParallelism?: number;
};

/** A CPU quota read from the cgroup files: quota/period cores. */
export type CgroupCpuLimit = {cores: number; source: 'cgroup cpu.max' | 'cgroup cpu.cfs_quota_us'; file: string; quota: number; period: number};

const readText = (file: string): string | null => {
	try {
		return readFileSync(file, 'utf8');
	} catch {
		return null;
	}
};

/** `dir` and each parent up to `mount` (limits nest: the tightest ancestor binds). */
const selfAndAncestors = (mount: string, cgroupPath: string): string[] => {
	const dirs: string[] = [];
	let rel = path.posix.normalize(`/${cgroupPath}`);
	for (;;) {
		dirs.push(path.join(mount, rel));
		if (rel === '/') return dirs;
		rel = path.posix.dirname(rel);
	}
};

/**
 * The tightest CPU quota on this process's cgroups, v2 (`cpu.max`: "quota period" or "max period")
 * or v1 (`cpu.cfs_quota_us` / `cpu.cfs_period_us`, -1 = none), or null when there is none. The
 * process's cgroup comes from /proc/self/cgroup; its folder and every ancestor up to the mount are
 * read, so both a container's namespaced root and a host path (or a path invisible from inside
 * the container) resolve. Mounts looked at: /sys/fs/cgroup (v2 or v1 `cpu`), /sys/fs/cgroup/unified
 * (hybrid v2), /sys/fs/cgroup/cpu and /sys/fs/cgroup/cpu,cpuacct (v1).
 */
export const cgroupCpuLimit = (fsRoot = '/'): CgroupCpuLimit | null => {
	const at = (p: string) => path.join(fsRoot, p);
	const lines = (readText(at('/proc/self/cgroup')) ?? '0::/\n').split('\n').filter(Boolean);
	let best: CgroupCpuLimit | null = null;
	const consider = (limit: CgroupCpuLimit) => {
		if (!best || limit.cores < best.cores) best = limit;
	};
	for (const line of lines) {
		const match = /^\d+:([^:]*):(.*)$/.exec(line);
		if (!match) continue;
		const [, controllers, rest] = match;
		if (controllers === '') {
			for (const mount of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) {
				for (const dir of selfAndAncestors(at(mount), rest)) {
					const file = path.join(dir, 'cpu.max');
					const [quotaText, periodText] = (readText(file) ?? '').trim().split(/\s+/);
					const quota = Number(quotaText);
					const period = Number(periodText);
					if (quotaText !== 'max' && quota > 0 && period > 0) consider({cores: quota / period, source: 'cgroup cpu.max', file, quota, period});
				}
			}
		} else if (controllers.split(',').includes('cpu')) {
			for (const mount of ['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpu,cpuacct', '/sys/fs/cgroup/cpuacct,cpu', '/sys/fs/cgroup']) {
				for (const dir of selfAndAncestors(at(mount), rest)) {
					const file = path.join(dir, 'cpu.cfs_quota_us');
					const quota = Number((readText(file) ?? '').trim());
					const period = Number((readText(path.join(dir, 'cpu.cfs_period_us')) ?? '').trim());
					if (quota > 0 && period > 0) consider({cores: quota / period, source: 'cgroup cpu.cfs_quota_us', file, quota, period});
				}
			}
		}
	}
	return best;
};

const positiveInteger = (value: unknown): number | null => {
	const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
	return Number.isInteger(n) && n >= 1 ? n : null;
};

/**
 * The intra-op thread count for ORT sessions: an explicit count, else FATEZERO_THREADS, else the
 * cores this process may use: os.availableParallelism() (the affinity mask), lowered to a cgroup
 * CPU quota when that is tighter (a container with --cpus=1.5 gets 1: a fractional core is left
 * to the throttler rather than oversubscribed). ORT's own default leaves cores idle on some
 * machines (onnx-notes: about one core of two), so every session sets this explicitly.
 */
export const defaultThreadCount = (options: ThreadCountOptions = {}): ThreadCount => {
	if (options.threads !== undefined && options.threads !== null) {
		const n = positiveInteger(options.threads);
		if (n === null) throw new FateZeroError('INVALID_OPTION', `threads: ${options.threads} is not a positive integer. Leave it unset to use every core.`);
		return {threads: n, source: 'option', describe: `${n} (option)`};
	}
	const fromEnv = (options.env ?? process.env).FATEZERO_THREADS;
	if (fromEnv !== undefined && fromEnv !== '') {
		const n = positiveInteger(fromEnv);
		if (n === null) throw new FateZeroError('INVALID_OPTION', `FATEZERO_THREADS is ${JSON.stringify(fromEnv)}; use a whole number ≥ 1, or unset it to use every core.`);
		return {threads: n, source: 'FATEZERO_THREADS env', describe: `${n} (FATEZERO_THREADS env)`};
	}
	const cores = options.availableParallelism ?? os.availableParallelism();
	const limit = cgroupCpuLimit(options.fsRoot);
	if (limit && Math.max(1, Math.floor(limit.cores)) < cores) {
		const n = Math.max(1, Math.floor(limit.cores));
		const shown = limit.source === 'cgroup cpu.max' ? `${limit.quota} ${limit.period}` : `${limit.quota}/${limit.period}`;
		return {threads: n, source: limit.source, describe: `${n} (${limit.source}: ${shown} in ${path.dirname(limit.file)} = ${Number(limit.cores.toFixed(2))} CPUs; availableParallelism ${cores})`};
	}
	return {threads: cores, source: 'availableParallelism', describe: `${cores} (availableParallelism)`};
};
