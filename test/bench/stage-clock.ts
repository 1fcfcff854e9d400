/**
 * Wall time and CPU share of a pipeline's stages, for the end-to-end benchmarks: the caller names
 * the stage that runs now (enter), and wrapped inference sessions add what ran inside ORT, so
 * each stage splits into ORT time and JS time (what the main thread did between runs).
 */
import os from 'node:os';
import type {InferenceSession} from '../../plugin/runtime/index.js';
import {machineBusyMs} from './bench-stats.js';

export type StageTotals = {
	label: string;
	ms: number;
	/** CPU time this process used in the stage (all threads: main, inference worker, ORT's pool, libuv). */
	cpuMs: number;
	/** CPU time the rest of the machine used meanwhile (ms, all CPUs); null off Linux. */
	othersMs: number | null;
	/** Wall and CPU time spent inside session.run calls (the inference worker and ORT's threads). */
	ortMs: number;
	ortCpuMs: number;
	ortRuns: number;
};

export type StageShares = StageTotals & {
	/** cpuMs ÷ (ms × cores): about 1 when every usable core was busy for this process. */
	cpuShare: number;
	/** Same, inside ORT runs only. */
	ortCpuShare: number | null;
	/** Same, outside them: about 1/cores when the stage's JS ran on one thread alone. */
	jsCpuShare: number | null;
	/** othersMs ÷ (ms × all CPUs): how much of the machine other processes took meanwhile. */
	othersShare: number | null;
};

const ownCpuMs = () => {
	const {user, system} = process.cpuUsage();
	return (user + system) / 1000;
};

export class StageClock {
	private readonly totals = new Map<string, StageTotals>();
	private current: {label: string; wall: number; cpu: number; machine: number | null} | null = null;

	/** `cores`: the cores this process may use, the denominator of every CPU share; `onEnter` sees each new stage (progress logs). */
	constructor(
		readonly cores: number,
		private readonly onEnter?: (label: string) => void,
	) {}

	/** The stage running from now on (re-entering a label adds to its totals). */
	enter(label: string): void {
		if (this.current?.label === label) return;
		this.close();
		this.onEnter?.(label);
		this.current = {label, wall: performance.now(), cpu: ownCpuMs(), machine: machineBusyMs()};
	}

	get label(): string | null {
		return this.current?.label ?? null;
	}

	/** Ends the current stage. */
	stop(): void {
		this.close();
		this.current = null;
	}

	private totalsOf(label: string): StageTotals {
		let t = this.totals.get(label);
		if (!t) {
			t = {label, ms: 0, cpuMs: 0, othersMs: null, ortMs: 0, ortCpuMs: 0, ortRuns: 0};
			this.totals.set(label, t);
		}
		return t;
	}

	private close(): void {
		const c = this.current;
		if (!c) return;
		const t = this.totalsOf(c.label);
		const cpu = ownCpuMs() - c.cpu;
		t.ms += performance.now() - c.wall;
		t.cpuMs += cpu;
		const machine = machineBusyMs();
		if (machine !== null && c.machine !== null) t.othersMs = (t.othersMs ?? 0) + Math.max(0, machine - c.machine - cpu);
	}

	/**
	 * Wraps `session` so each run's wall and CPU time is added to the stage current when it ends;
	 * `onRunStart` may enter a stage first (a VAE run starts the VAE stage).
	 */
	timeSession(session: InferenceSession, onRunStart?: () => void): InferenceSession {
		const run: InferenceSession['run'] = async (feeds, options) => {
			onRunStart?.();
			const wall = performance.now();
			const cpu = ownCpuMs();
			try {
				return await session.run(feeds, options);
			} finally {
				if (this.current) {
					const t = this.totalsOf(this.current.label);
					t.ortMs += performance.now() - wall;
					t.ortCpuMs += ownCpuMs() - cpu;
					t.ortRuns += 1;
				}
			}
		};
		// sessions are plain objects (inference-runtime.ts), so a copy with its own run is the session
		return {...session, run};
	}

	/** Every stage in the order first entered, with its shares. */
	stages(): StageShares[] {
		const cpus = os.cpus().length;
		const share = (cpuMs: number, ms: number) => (ms > 0 ? cpuMs / (ms * this.cores) : null);
		return [...this.totals.values()].map((t) => ({
			...t,
			cpuShare: share(t.cpuMs, t.ms) ?? 0,
			ortCpuShare: t.ortRuns > 0 ? share(t.ortCpuMs, t.ortMs) : null,
			jsCpuShare: share(t.cpuMs - t.ortCpuMs, t.ms - t.ortMs),
			othersShare: t.othersMs === null || t.ms <= 0 ? null : t.othersMs / (t.ms * cpus),
		}));
	}
}
