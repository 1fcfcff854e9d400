import type {ProgressEvent} from '../diffusion/progress.js';

/** The NDJSON progress format (`--json-progress`): every line is one object with `type` and this version. */
export const PROGRESS_FORMAT_VERSION = 1;

/**
 * One progress report of a named job: a clip job (JobProgress), an engine stage of `fatezero edit`
 * or `doctor`, a render. `etaSeconds` is the stage's ETA when the source knows it; else the
 * display estimates it from the pace of the stage.
 */
export type ProgressUpdate = {
	job: string;
	stage: string;
	step: number;
	total: number;
	etaSeconds?: number | null;
	warnings?: string[];
};

/** One `--json-progress` line. `job` comes first so line-oriented readers can match `{"job"`. */
export type ProgressJsonEvent = {
	job: string;
	type: 'progress';
	version: typeof PROGRESS_FORMAT_VERSION;
	stage: string;
	step: number;
	total: number;
	/** Seconds left in this stage. */
	etaSeconds: number | null;
	/** Seconds left in the whole job, from the measured pace (null until there is one). */
	totalEtaSeconds: number | null;
	warnings?: string[];
};

// An editing step runs [source | uncond | cond] per frame in recompute mode, about three times an
// inversion step's [source]; the measured inversion pace projects the editing stage still ahead.
const EDIT_STEP_COST_IN_INVERSION_STEPS = 3;

const STAGE_LABELS: Record<string, string> = {
	load: 'loading',
	'encode-prompts': 'prompts',
	'vae-encode': 'encoding',
	invert: 'inverting',
	denoise: 'editing',
	edit: 'editing',
	'vae-decode': 'decoding',
	decode: 'decoding',
	write: 'writing',
	import: 'importing',
	publish: 'publishing',
	wait: 'waiting',
	queued: 'queued',
	done: 'done',
};

/** "ETA 12s", "ETA 3m05s"; '' for unknown. */
export const formatEta = (seconds: number | null): string => {
	if (seconds === null || !Number.isFinite(seconds)) return '';
	if (seconds < 60) return `${Math.round(seconds)}s`;
	return `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
};

type JobState = {stage: string; stageStart: number; lastTick: number; invertPace: number | null; invertTotal: number; lastPercent: number; warnings: Set<string>};

export type ProgressDisplayOptions = {
	/** Default process.stderr. */
	stream?: NodeJS.WriteStream;
	/** NDJSON events (`--json-progress`) instead of bars or lines. */
	json?: boolean;
};

/**
 * The one progress renderer of every command. On a TTY: one bar per job, redrawn in place, with
 * the stage's ETA and the job's total ETA. On other streams (CI logs, pipes): a line at each stage
 * change and each further 10 %, with the same ETAs. With `json`: one NDJSON event per update.
 * Warnings are printed once each (and carried by every JSON event once they exist).
 */
export const createProgressDisplay = (options: ProgressDisplayOptions | NodeJS.WriteStream = {}) => {
	const {stream = process.stderr, json = false} = 'write' in options ? {stream: options} : options;
	const jobs = new Map<string, JobState>();
	const lines = new Map<string, string>();
	let drawn = 0;
	const draw = () => {
		if (drawn) stream.write(`\x1b[${drawn}A`);
		for (const line of lines.values()) stream.write(`\x1b[2K${line}\n`);
		drawn = lines.size;
	};
	const above = (text: string) => {
		// printed above the bars: the bars are redrawn below it
		if (stream.isTTY && drawn) {
			stream.write(`\x1b[${drawn}A\x1b[0J`);
			drawn = 0;
		}
		stream.write(`${text}\n`);
		if (stream.isTTY) draw();
	};

	const update = (event: ProgressUpdate) => {
		const now = performance.now();
		let state = jobs.get(event.job);
		if (!state) {
			state = {stage: '', stageStart: now, lastTick: now, invertPace: null, invertTotal: 0, lastPercent: -1, warnings: new Set()};
			jobs.set(event.job, state);
		}
		if (event.stage !== state.stage) {
			// a stage starts when the previous one reported last, so its first step has a real time
			state.stage = event.stage;
			state.stageStart = state.lastTick;
			state.lastPercent = -1;
		}
		state.lastTick = now;
		const elapsed = (now - state.stageStart) / 1000;
		const pace = event.step > 0 ? elapsed / event.step : null;
		const stageEta = event.etaSeconds !== undefined ? event.etaSeconds : pace === null ? null : event.step >= event.total ? 0 : pace * (event.total - event.step);
		if (event.stage === 'invert' && pace !== null) [state.invertPace, state.invertTotal] = [pace, event.total];
		const ahead = event.stage === 'invert' && state.invertPace !== null ? state.invertPace * state.invertTotal * EDIT_STEP_COST_IN_INVERSION_STEPS : 0;
		const totalEta = stageEta === null ? null : stageEta + ahead;
		const fresh = (event.warnings ?? []).filter((w) => !state.warnings.has(w));
		for (const warning of fresh) state.warnings.add(warning);

		if (json) {
			const line: ProgressJsonEvent = {job: event.job, type: 'progress', version: PROGRESS_FORMAT_VERSION, stage: event.stage, step: event.step, total: event.total, etaSeconds: stageEta, totalEtaSeconds: totalEta};
			if (state.warnings.size) line.warnings = [...state.warnings];
			stream.write(`${JSON.stringify(line)}\n`);
			return;
		}
		for (const warning of fresh) above(`⚠ ${event.job}: ${warning}`);
		const label = STAGE_LABELS[event.stage] ?? event.stage;
		const percent = event.total > 0 ? Math.floor((event.step / event.total) * 100) : 0;
		const etas = [stageEta !== null && event.step < event.total ? `ETA ${formatEta(stageEta)}` : '', totalEta !== null && ahead > 0 ? `total ETA ${formatEta(totalEta)}` : ''].filter(Boolean).join(', ');
		if (stream.isTTY) {
			const width = 24;
			const filled = Math.round((percent / 100) * width);
			lines.set(event.job, `${event.job.padEnd(14).slice(0, 14)} ${label.padEnd(10)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${event.step}/${event.total} ${etas}`.trimEnd());
			draw();
		} else if (state.lastPercent < 0 || Math.floor(percent / 10) > Math.floor(state.lastPercent / 10)) {
			state.lastPercent = percent;
			stream.write(`${event.job}: ${label} ${percent}% (${event.step}/${event.total})${etas ? ` ${etas}` : ''}\n`);
		}
	};

	return {
		update,
		/** An engine OnProgress (runFateZero, loadFateZero, reconstructClip) reported as job `job`. */
		engine: (job: string) => (event: ProgressEvent) => update({job, stage: event.stage, step: event.step, total: event.total}),
		/** Removes the bars (TTY), e.g. before a summary. */
		clear() {
			if (stream.isTTY && drawn) stream.write(`\x1b[${drawn}A\x1b[0J`);
			drawn = 0;
			lines.clear();
		},
	};
};

export type ProgressDisplay = ReturnType<typeof createProgressDisplay>;

/** A fixed-width table for the end-of-run summary. */
export const formatTable = (header: string[], rows: string[][]): string => {
	const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
	const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
	return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
};
