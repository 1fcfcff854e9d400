/**
 * Time per clip as users get it: `npm run bench:clip [-- --sizes 256,512 --steps 10 --frames 8 ...]`.
 *
 * Runs one clip job end to end through the real pipeline (plugin/jobs/run-clip-job.ts: keys,
 * import, inversion, edit, decode, publish, called stage by stage as runClipJob calls them) on the
 * SD-1.5-architecture random model (the one bench:unet generates under
 * `<tmpdir>/fatezero-bench/sd15-random`, passed to the job explicitly), in a fresh temp store per
 * size, with the default thread count. The engine's sessions are wrapped to split each stage into
 * ORT time and JS time; every stage shows its CPU share of the usable cores (ORT's, and the JS
 * between runs: about 1/cores when that JS is single-threaded) and the share other processes took.
 * The edit is the paper's watercolor edit with a reweight and blend words, so the latent blend
 * runs. Step-proportional stages are extrapolated to 50 steps from the per-step times. Then small
 * probes of the other CPU paths (PNG encoding through sharp, the float → 8-bit loop). Prints the
 * tables, then the figures as one JSON object on the last line.
 */
import {existsSync, mkdtempSync, rmSync} from 'node:fs';
import {createRequire} from 'node:module';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import sharp from 'sharp';
import type {FateZeroEngine} from '../../plugin/fatezero/load-fatezero.js';
import {EnginePool} from '../../plugin/jobs/engine-pool.js';
import type {JobProgress} from '../../plugin/jobs/job-progress.js';
import {ensureEdit, ensureInversion, ensureSource, prepareClipJob, publishClip, type ClipJobResult} from '../../plugin/jobs/run-clip-job.js';
import {encodePngFrames, toRgb8} from '../../plugin/media/write-png-frames.js';
import {generateRandomModel} from '../../plugin/model-generator/generate-random-model.js';
import {seededNormal} from '../../plugin/model/random-weights.js';
import {defaultThreadCount} from '../../plugin/runtime/index.js';
import {median, peakRssMb, round, seconds, timeRuns} from './bench-stats.js';
import {StageClock, type StageShares} from './stage-clock.js';

const USAGE = `Usage: npm run bench:clip -- [options]
  --sizes LIST      frame sizes in pixels, one job each (default 256,512)
  --steps N         DDIM steps of the job (default 10)
  --frames N        frames of the clip (default 8)
  --extrapolate N   step count the per-step times are extrapolated to (default 50)
  --source PATH     the source video or frame folder (default ../shared/footage/car-turn.mp4)
  --model-dir DIR   the random SD-1.5 model (default <tmpdir>/fatezero-bench/sd15-random; generated if absent)
  --threads N       ORT intra-op threads (default: the plugin's default, every core this process may use)
  --execution-provider P  cpu | cuda | webgpu (default cpu)
  --compute-type T  float32 | float16 (default float32)
  --keep-store      keep the temp stores (default: deleted)`;

const {values: flags} = parseArgs({
	options: {
		sizes: {type: 'string', default: '256,512'},
		steps: {type: 'string', default: '10'},
		frames: {type: 'string', default: '8'},
		extrapolate: {type: 'string', default: '50'},
		source: {type: 'string'},
		'model-dir': {type: 'string'},
		threads: {type: 'string'},
		'execution-provider': {type: 'string', default: 'cpu'},
		'compute-type': {type: 'string', default: 'float32'},
		'keep-store': {type: 'boolean', default: false},
		help: {type: 'boolean', default: false},
	},
});
if (flags.help) {
	console.log(USAGE);
	process.exit(0);
}
const fail = (message: string): never => {
	console.error(`${message}\n${USAGE}`);
	process.exit(2);
};
const positiveInt = (name: string, value: string): number => {
	const n = Number(value);
	return Number.isInteger(n) && n >= 1 ? n : fail(`--${name}: ${JSON.stringify(value)} is not a whole number ≥ 1.`);
};
const choice = <T extends string>(name: string, value: string, choices: readonly T[]): T =>
	(choices as readonly string[]).includes(value) ? (value as T) : fail(`--${name}: ${JSON.stringify(value)} is not one of ${choices.join(', ')}.`);

const sizes = flags.sizes.split(',').map((v) => positiveInt('sizes', v.trim()));
for (const size of sizes) if (size % 64 !== 0) fail(`--sizes: ${size} is not a multiple of 64 (SD-1.5 latents must halve cleanly three times).`);
const steps = positiveInt('steps', flags.steps);
const frameCount = positiveInt('frames', flags.frames);
const extrapolateTo = positiveInt('extrapolate', flags.extrapolate);
const threads = flags.threads === undefined ? undefined : positiveInt('threads', flags.threads);
const executionProvider = choice('execution-provider', flags['execution-provider'], ['cpu', 'cuda', 'webgpu'] as const);
const computeType = choice('compute-type', flags['compute-type'], ['float32', 'float16'] as const);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const source = path.resolve(flags.source ?? path.join(repoRoot, '../shared/footage/car-turn.mp4'));
if (!existsSync(source)) fail(`--source: ${source} does not exist; give a video or a frame folder.`);
const modelDir = path.resolve(flags['model-dir'] ?? path.join(os.tmpdir(), 'fatezero-bench', 'sd15-random'));

const log = (message: string) => console.error(`[bench:clip] ${message}`);
const ortVersion = (createRequire(import.meta.url)('onnxruntime-node/package.json') as {version: string}).version;
// the denominator of every CPU share: the cores this process may use (not FATEZERO_THREADS)
const cores = defaultThreadCount({env: {}});
const benchStart = performance.now();

log(`model folder ${modelDir}`);
let start = performance.now();
const generated = generateRandomModel({dir: modelDir, architecture: 'sd15', seed: 0, dtype: 'F16'});
log(generated.alreadyExisted ? 'reused the existing random sd15 model' : `generated a random sd15 model in ${seconds(performance.now() - start)} s`);

// the paper's watercolor edit of the car-turn clip; blend words make the latent blend run
const descriptorFor = (size: number) => ({
	source,
	sourcePrompt: 'a silver jeep driving down a curvy road in the countryside',
	prompt: 'watercolor painting of a silver jeep driving down a curvy road in the countryside',
	frames: {count: frameCount},
	size,
	steps,
	edit: {reweight: {watercolor: 10}, blendWords: [['jeep'], ['jeep']]},
	label: `bench ${size}`,
});

/** A pool whose engines' sessions report to the clock (the job code runs unchanged). */
class TimedEnginePool extends EnginePool {
	private readonly instrumented = new WeakSet<FateZeroEngine>();
	constructor(
		base: ConstructorParameters<typeof EnginePool>[0],
		private readonly instrument: (engine: FateZeroEngine) => void,
	) {
		super(base);
	}
	override async get(...args: Parameters<EnginePool['get']>): Promise<FateZeroEngine> {
		const engine = await super.get(...args);
		if (!this.instrumented.has(engine)) {
			this.instrumented.add(engine);
			this.instrument(engine);
		}
		return engine;
	}
}

// stages whose time grows with the step count (the inverted latents and mask maps per step)
const PER_STEP = new Set(['inversion', 'write inversion', 'read inversion', 'editing']);

type SizeRun = {
	size: number;
	stages: StageShares[];
	totalMs: number;
	/** Per step (ms): the first includes ORT's first-run cost for the shape. */
	stepMs: {inversion: number[]; editing: number[]};
	extrapolatedMs: Map<string, number>;
	chunkSizeInFrames: number;
	result: ClipJobResult;
	jobCpuShare: number;
	othersShare: number | null;
	peakRssMb: number;
};

const runSize = async (size: number): Promise<SizeRun> => {
	const store = mkdtempSync(path.join(os.tmpdir(), `fatezero-bench-clip-${size}-`));
	const clock = new StageClock(cores.threads, (label) => log(`${size}²: ${label}`));
	let phase: 'inversion' | 'editing' = 'inversion';
	const stepStart = {inversion: 0, editing: 0};
	const stepEnds: {inversion: number[]; editing: number[]} = {inversion: [], editing: []};
	const pool = new TimedEnginePool({cacheDir: path.join(store, 'cache'), executionProvider, computeType, ...(threads === undefined ? {} : {intraOpThreads: threads})}, (engine) => {
		engine.vaeEncoder = clock.timeSession(engine.vaeEncoder, () => clock.enter('VAE encode'));
		engine.textEncoder = clock.timeSession(engine.textEncoder);
		engine.unet = clock.timeSession(engine.unet, () => {
			if (clock.label === phase) return;
			stepStart[phase] = performance.now();
			clock.enter(phase);
		});
		engine.vaeDecoder = clock.timeSession(engine.vaeDecoder, () => clock.enter('VAE decode'));
	});
	const onProgress = (event: JobProgress) => {
		if (event.stage === 'load') clock.enter(event.step >= event.total ? 'prompts (text encoder)' : 'load (graphs, sessions)');
		else if (event.stage === 'invert' || event.stage === 'edit') {
			const which = event.stage === 'invert' ? 'inversion' : 'editing';
			if (event.step > stepEnds[which].length) stepEnds[which].push(performance.now());
			if (event.step >= event.total) clock.enter(which === 'inversion' ? 'write inversion' : 'VAE decode');
		} else if (event.stage === 'decode') clock.enter('VAE decode');
		else if (event.stage === 'publish') clock.enter('PNG encode + write');
	};
	const machineCpu = () => process.cpuUsage();
	try {
		const jobCpu0 = machineCpu();
		const jobStart = performance.now();
		// the stages in runClipJob's order (runClipJobStages), each timed from the call
		clock.enter('keys (hash source, model)');
		const job = await prepareClipJob({
			descriptor: descriptorFor(size),
			cacheDir: path.join(store, 'cache'),
			publicDir: path.join(store, 'public'),
			pool,
			model: {value: modelDir, origin: '--model-dir'},
			onProgress,
		});
		clock.enter('import (decode, resize, PNG)');
		const sourceEntry = await ensureSource(job);
		clock.enter('load (graphs, sessions)');
		const inversion = await ensureInversion(job, sourceEntry);
		phase = 'editing';
		clock.enter('read inversion');
		const clip = await ensureEdit(job, sourceEntry, inversion);
		clock.enter('publish');
		const result = await publishClip(job, clip, {source: sourceEntry.status, inversion: inversion.status, clip: clip.status});
		clock.stop();
		const totalMs = performance.now() - jobStart;
		const cpu = machineCpu();
		const jobCpuShare = (cpu.user + cpu.system - jobCpu0.user - jobCpu0.system) / 1000 / (totalMs * cores.threads);
		if (result.status !== 'computed' || result.publicPath === null) throw new Error(`the job did not compute and publish its clip (status ${result.status}, public ${result.publicPath})`);

		const stages = clock.stages();
		const othersMs = stages.reduce((sum, s) => (s.othersMs === null ? sum : sum + s.othersMs), 0);
		const stepMs = {inversion: [] as number[], editing: [] as number[]};
		for (const which of ['inversion', 'editing'] as const) {
			stepEnds[which].forEach((end, i) => stepMs[which].push(end - (i === 0 ? stepStart[which] : stepEnds[which][i - 1])));
		}
		// the first step carries ORT's first-run cost once; later steps are the steady rate
		const extrapolatedMs = new Map<string, number>();
		for (const s of stages) {
			let ms = s.ms;
			if (s.label === 'inversion' || s.label === 'editing') {
				const perStep = stepMs[s.label];
				const steady = perStep.length > 1 ? median(perStep.slice(1)) : perStep[0];
				// what the loop around the steps cost beyond them stays as measured
				ms = s.ms - perStep.reduce((a, b) => a + b, 0) + perStep[0] + (extrapolateTo - 1) * steady;
			} else if (PER_STEP.has(s.label)) ms = (s.ms * extrapolateTo) / steps;
			extrapolatedMs.set(s.label, ms);
		}
		return {
			size,
			stages,
			totalMs,
			stepMs,
			extrapolatedMs,
			chunkSizeInFrames: job.engineRun.chunkSizeInFrames,
			result,
			jobCpuShare,
			othersShare: stages.some((s) => s.othersMs !== null) ? othersMs / (totalMs * os.cpus().length) : null,
			peakRssMb: peakRssMb(),
		};
	} finally {
		await pool.dispose();
		if (flags['keep-store']) log(`store kept: ${store}`);
		else rmSync(store, {recursive: true, force: true});
	}
};

/** The other CPU paths outside ORT, alone: what they cost and how many cores they use. */
const probeHotPaths = async (size: number) => {
	const frames = seededNormal(5, `bench.frames.${size}`, frameCount * size * size * 3).map((v) => Math.min(1, Math.max(0, 0.5 + 0.2 * v)));
	const rgb = Array.from({length: frameCount}, (_, i) => toRgb8(frames, i, size, size));
	const toRgb = await timeRuns(async () => Array.from({length: frameCount}, (_, i) => toRgb8(frames, i, size, size)), 1, 3, cores.threads);
	const png = await timeRuns(() => encodePngFrames(rgb, size, size), 1, 3, cores.threads);
	const pngSerial = await timeRuns(
		async () => {
			for (const frame of rgb) await encodePngFrames([frame], size, size);
		},
		1,
		3,
		cores.threads,
	);
	return {size, toRgb, png, pngSerial};
};

const runs: SizeRun[] = [];
const probes: Awaited<ReturnType<typeof probeHotPaths>>[] = [];
for (const size of sizes) {
	log(`${size}²: ${frameCount} frames × ${steps} steps, fresh store, ${executionProvider} ${computeType}`);
	const run = await runSize(size);
	runs.push(run);
	log(`${size}²: clip in ${seconds(run.totalMs)} s (CPU share ${Math.round(100 * run.jobCpuShare)} %, chunk ${run.chunkSizeInFrames} frames)`);
	probes.push(await probeHotPaths(size));
}

// tables
/** The job's own CPU time ÷ usable cores (ms): its length on an otherwise idle machine, for stages that keep every core busy. */
const cpuBoundMs = (run: SizeRun) => run.stages.reduce((sum, s) => sum + s.cpuMs, 0) / cores.threads;
const pct = (v: number | null) => (v === null ? '-' : `${Math.round(100 * v)}%`);
const num = (v: number) => String(Math.round(v));
const header = ['stage'.padEnd(28), 'ms'.padStart(8), 'job'.padStart(5), 'CPU'.padStart(5), 'ORT ms'.padStart(8), 'ORT CPU'.padStart(8), 'JS ms'.padStart(7), 'JS CPU'.padStart(7), 'others'.padStart(7), `@${extrapolateTo} steps`.padStart(10), 'CPU-s/cores'.padStart(12)].join(' ');
const lines: string[] = [
	'',
	`Time per clip: one clip job end to end (keys, import, inversion, edit, decode, publish), SD-1.5 architecture with random weights, ${frameCount} frames × ${steps} steps, ${executionProvider} ${computeType}`,
	`node ${process.version} · onnxruntime-node ${ortVersion} · ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}) · cores usable ${cores.describe} · ORT threads ${threads ?? `default (${defaultThreadCount().describe})`} · sharp.concurrency() ${sharp.concurrency()} · UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}`,
	`source ${source} · model ${modelDir} (${generated.alreadyExisted ? 'reused' : 'generated'})`,
	'CPU = this process\'s CPU time ÷ (wall × usable cores); ORT/JS split it into time inside session.run and time between runs; others = CPU other processes took ÷ (wall × all CPUs)',
	'CPU-s/cores = the stage\'s own CPU time ÷ usable cores: about what it takes with every core to itself, when it keeps them all busy (a floor where it does not; a rough guide when others took the CPU)',
];
for (const run of runs) {
	const total50 = [...run.extrapolatedMs.values()].reduce((a, b) => a + b, 0);
	const load = run.stages.find((s) => s.label === 'load (graphs, sessions)')?.ms ?? 0;
	const load50 = run.extrapolatedMs.get('load (graphs, sessions)') ?? 0;
	lines.push(
		'',
		`${run.size}² (latents ${run.size / 8}², UNet chunk ${run.chunkSizeInFrames} frames): ${seconds(run.totalMs)} s, ${seconds(run.totalMs - load)} s without loading the engine · CPU ${pct(run.jobCpuShare)} · others ${pct(run.othersShare)} · peak RSS ${Math.round(run.peakRssMb)} MiB`,
		header,
		...run.stages.map((s) =>
			[
				`${s.label}${PER_STEP.has(s.label) ? ' ×' : ''}`.padEnd(28),
				num(s.ms).padStart(8),
				pct(s.ms / run.totalMs).padStart(5),
				pct(s.cpuShare).padStart(5),
				(s.ortRuns ? num(s.ortMs) : '-').padStart(8),
				pct(s.ortCpuShare).padStart(8),
				num(s.ms - s.ortMs).padStart(7),
				pct(s.jsCpuShare).padStart(7),
				pct(s.othersShare).padStart(7),
				num(run.extrapolatedMs.get(s.label) ?? s.ms).padStart(10),
				num(s.cpuMs / cores.threads).padStart(12),
			].join(' '),
		),
		`${'total'.padEnd(28)} ${num(run.totalMs).padStart(8)} ${'100%'.padStart(5)} ${pct(run.jobCpuShare).padStart(5)} ${' '.repeat(42)}${num(total50).padStart(10)} ${num(cpuBoundMs(run)).padStart(12)}`,
		`per step: inversion ${run.stepMs.inversion.map(num).join(' ')} ms; editing ${run.stepMs.editing.map(num).join(' ')} ms (the first includes ORT's first run of the shape)`,
		`× = grows with the steps; @${extrapolateTo}: first step + ${extrapolateTo - 1} × median of the later steps, stores scaled by ${extrapolateTo}/${steps}: ${seconds(total50)} s per clip, ${seconds(total50 - load50)} s with the engine loaded`,
	);
}
const probeRow = (name: string, t: Awaited<ReturnType<typeof timeRuns>>) =>
	[name.padEnd(44), String(round(t.median)).padStart(8), pct(median(t.cpuShare)).padStart(5), pct(t.othersShare).padStart(7)].join(' ');
lines.push('', `other CPU paths alone (${frameCount} frames; median of 3 runs):`, ['path'.padEnd(44), 'ms'.padStart(8), 'CPU'.padStart(5), 'others'.padStart(7)].join(' '));
for (const p of probes) {
	lines.push(
		probeRow(`${p.size}² float → 8-bit (toRgb8, JS loop)`, p.toRgb),
		probeRow(`${p.size}² PNG encode, frames in parallel (sharp)`, p.png),
		probeRow(`${p.size}² PNG encode, one frame at a time`, p.pngSerial),
	);
}
lines.push(`total ${seconds(performance.now() - benchStart)} s`);
console.log(lines.join('\n'));

const figures: Record<string, unknown> = {
	node: process.version,
	ort: ortVersion,
	cpus: os.cpus().length,
	cores: cores.threads,
	cores_source: cores.source,
	threads: threads ?? defaultThreadCount().threads,
	execution_provider: executionProvider,
	compute_type: computeType,
	sharp_concurrency: sharp.concurrency(),
	frames: frameCount,
	steps,
	extrapolate_steps: extrapolateTo,
	model_reused: generated.alreadyExisted,
};
for (const run of runs) {
	const s = run.size;
	const total50 = [...run.extrapolatedMs.values()].reduce((a, b) => a + b, 0);
	const load = run.stages.find((x) => x.label === 'load (graphs, sessions)')?.ms ?? 0;
	figures[`clip_s_${s}`] = seconds(run.totalMs);
	figures[`clip_s_${s}_loaded`] = seconds(run.totalMs - load);
	figures[`clip_cpu_s_per_core_${s}`] = seconds(cpuBoundMs(run));
	figures[`clip_s_${s}_at_${extrapolateTo}`] = seconds(total50);
	figures[`clip_s_${s}_at_${extrapolateTo}_loaded`] = seconds(total50 - (run.extrapolatedMs.get('load (graphs, sessions)') ?? 0));
	figures[`invert_ms_per_step_${s}`] = round(median(run.stepMs.inversion.slice(1).length ? run.stepMs.inversion.slice(1) : run.stepMs.inversion));
	figures[`edit_ms_per_step_${s}`] = round(median(run.stepMs.editing.slice(1).length ? run.stepMs.editing.slice(1) : run.stepMs.editing));
	figures[`chunk_frames_${s}`] = run.chunkSizeInFrames;
	figures[`cpu_share_${s}`] = round(run.jobCpuShare, 2);
	figures[`others_share_${s}`] = run.othersShare === null ? null : round(run.othersShare, 2);
	figures[`peak_rss_mb_${s}`] = Math.round(run.peakRssMb);
	figures[`stages_${s}`] = Object.fromEntries(
		run.stages.map((x) => [x.label, {ms: Math.round(x.ms), cpu: round(x.cpuShare, 2), ort_ms: Math.round(x.ortMs), js_cpu: x.jsCpuShare === null ? null : round(x.jsCpuShare, 2), others: x.othersShare === null ? null : round(x.othersShare, 2)}]),
	);
}
for (const p of probes) {
	figures[`png_ms_${p.size}`] = round(p.png.median);
	figures[`png_cpu_${p.size}`] = round(median(p.png.cpuShare), 2);
	figures[`png_serial_ms_${p.size}`] = round(p.pngSerial.median);
	figures[`to_rgb8_ms_${p.size}`] = round(p.toRgb.median);
}
figures.total_s = seconds(performance.now() - benchStart);
console.log(JSON.stringify(figures));
