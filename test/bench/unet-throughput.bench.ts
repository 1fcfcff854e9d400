/**
 * UNet throughput on this machine: `npm run bench:unet [-- --runs 5 --sizes 256,512 ...]`.
 *
 * Generates (or reuses) a full-size SD-1.5-architecture model with random weights under
 * `<tmpdir>/fatezero-bench/sd15-random`, then measures in one process and one inference worker:
 * the UNet at 256² and 512² pixels (32² and 64² latents) for each batch size, on the default path
 * (createInferenceRuntime() without options: what users get), and between them the reference: a
 * 2-input MatMul chain (both operands fed at run time, so no prepacking) on its own runtime with
 * every core this process may use. The budget (issue 17) is UNet GFLOP/s ≥ 85 % of that reference,
 * measured around each row. Each row shows its CPU share (own CPU ÷ wall × cores) and the share
 * other processes took; a low share is flagged as noise only when others really took the CPU.
 * Prints a table, then the figures as one JSON object on the last line for comparing commits.
 */
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {createRequire} from 'node:module';
import os from 'node:os';
import path from 'node:path';
import {parseArgs} from 'node:util';
import {compileModelGraphs, validateModelWeights} from '../../plugin/graph/compile-model-graphs.js';
import {UNET_IO} from '../../plugin/graph/unet-graph.js';
import {generateRandomModel} from '../../plugin/model-generator/generate-random-model.js';
import {seededNormal} from '../../plugin/model/random-weights.js';
import {readModelFolder} from '../../plugin/model/read-model-folder.js';
import {createInferenceRuntime, defaultThreadCount, float32Tensor, int64Tensor, type HostTensor, type InferenceSession} from '../../plugin/runtime/index.js';
import {median, peakRssMb, round, seconds, timeRuns, type Timings} from './bench-stats.js';
import {buildMatmulProbe} from './matmul-probe.js';
import {countUnetFlops, type UnetFlops} from './unet-flops.js';

const BUDGET = 0.85;

const USAGE = `Usage: npm run bench:unet -- [options]
  --runs N          timed runs per UNet shape (median reported; default 3)
  --warmup N        warm-up runs per shape, not timed (default 2)
  --sizes LIST      pixel sizes, latents are size/8 (default 256,512)
  --batches LIST    UNet batch sizes (default 1,2)
  --matmul N        the reference MatMuls are N×N×N, both operands fed at run time (default 2048)
  --matmul-depth N  MatMuls chained in one reference run (default 4: amortizes the feed copies)
  --matmul-runs N   timed MatMul runs per burst; a burst precedes each UNet shape, one ends the run (default 5)
  --threads N       the UNet's ORT intra-op threads (default: the plugin's default, every core this
                    process may use or FATEZERO_THREADS); the reference always uses every core
  --model-dir DIR   where the random model lives (default <tmpdir>/fatezero-bench/<architecture>-random)
  --architecture A  sd15 | tiny: the random model's architecture (default sd15; tiny for dry runs)
  --execution-provider P  cpu | cuda | webgpu: where the UNet runs (default cpu; the MatMul reference
                    always runs on the CPU, so "vs MatMul" means something on the CPU only)
  --compute-type T  float32 | float16 inside the UNet graph (default float32)
  --clean           delete the generated model afterwards (default: keep it for the next run)`;

const {values: flags} = parseArgs({
	options: {
		runs: {type: 'string', default: '3'},
		warmup: {type: 'string', default: '2'},
		sizes: {type: 'string', default: '256,512'},
		batches: {type: 'string', default: '1,2'},
		matmul: {type: 'string', default: '2048'},
		'matmul-runs': {type: 'string', default: '5'},
		'matmul-depth': {type: 'string', default: '4'},
		threads: {type: 'string'},
		'model-dir': {type: 'string'},
		architecture: {type: 'string', default: 'sd15'},
		'execution-provider': {type: 'string', default: 'cpu'},
		'compute-type': {type: 'string', default: 'float32'},
		clean: {type: 'boolean', default: false},
		help: {type: 'boolean', default: false},
	},
});
if (flags.help) {
	console.log(USAGE);
	process.exit(0);
}

const positiveInt = (name: string, value: string, min = 1): number => {
	const n = Number(value);
	if (!Number.isInteger(n) || n < min) {
		console.error(`--${name}: ${JSON.stringify(value)} is not an integer ≥ ${min}.\n${USAGE}`);
		process.exit(2);
	}
	return n;
};
const intList = (name: string, value: string) => value.split(',').map((v) => positiveInt(name, v.trim()));

const runs = positiveInt('runs', flags.runs);
const warmup = positiveInt('warmup', flags.warmup, 0);
const sizes = intList('sizes', flags.sizes);
const batches = intList('batches', flags.batches);
const matmulSize = positiveInt('matmul', flags.matmul);
const matmulRuns = positiveInt('matmul-runs', flags['matmul-runs']);
const matmulDepth = positiveInt('matmul-depth', flags['matmul-depth']);
const threads = flags.threads === undefined ? undefined : positiveInt('threads', flags.threads);
for (const size of sizes) {
	if (size % 64 !== 0) {
		// three stride-2 levels must divide the latent evenly, or the skips no longer line up
		console.error(`--sizes: ${size} is not a multiple of 64 (latents must halve cleanly three times).`);
		process.exit(2);
	}
}
const choice = <T extends string>(name: string, value: string, choices: readonly T[]): T => {
	if (!(choices as readonly string[]).includes(value)) {
		console.error(`--${name}: ${JSON.stringify(value)} is not one of ${choices.join(', ')}.\n${USAGE}`);
		process.exit(2);
	}
	return value as T;
};
const architecture = choice('architecture', flags.architecture, ['sd15', 'tiny'] as const);
const executionProvider = choice('execution-provider', flags['execution-provider'], ['cpu', 'cuda', 'webgpu'] as const);
const computeType = choice('compute-type', flags['compute-type'], ['float32', 'float16'] as const);
const modelDir = path.resolve(flags['model-dir'] ?? path.join(os.tmpdir(), 'fatezero-bench', `${architecture}-random`));

// Progress goes to stderr so stdout carries only the table and the JSON line.
const log = (message: string) => console.error(`[bench:unet] ${message}`);
const ortVersion = (createRequire(import.meta.url)('onnxruntime-node/package.json') as {version: string}).version;

// The widest SIMD sets the MatMul ceiling (AVX-512 against AVX2 changes it markedly): record it so runs
// on different machines are not compared as if they were commits.
const cpuSimd = (): string => {
	if (!existsSync('/proc/cpuinfo')) return 'unknown';
	const flagsLine = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '';
	const has = (f: string) => flagsLine.split(' ').includes(f);
	return has('avx512f') ? 'avx512' : has('avx2') ? 'avx2' : has('avx') ? 'avx' : 'sse';
};
// The cores this process may use (affinity, cgroup quota; not FATEZERO_THREADS): the reference's
// thread count and the denominator of every CPU share.
const cores = defaultThreadCount({env: {}});

const benchStart = performance.now();

// 1. model: generated once, reused by later runs (the generator is idempotent per options)
log(`model folder ${modelDir}`);
let start = performance.now();
const generated = generateRandomModel({dir: modelDir, architecture, seed: 0, dtype: 'F16'});
const generateMs = performance.now() - start;
log(generated.alreadyExisted ? `reused the existing random ${architecture} model` : `generated a random ${architecture} model in ${seconds(generateMs)} s`);
const rssAfterGenerate = peakRssMb();

// 2. graphs into a throwaway cache, so the build time is measured on every run
const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'fatezero-bench-cache-'));
start = performance.now();
const model = readModelFolder(modelDir);
validateModelWeights(model);
const specs = compileModelGraphs(model, cacheDir, {computeType, executionProvider, unet: {referenceFramesMinChannels: null}});
const graphsMs = performance.now() - start;
const bytesOf = (files: {index: {fileSizeInBytes: number}}[]) => files.reduce((sum, {index}) => sum + index.fileSizeInBytes, 0);
const unetWeightBytes = bytesOf(model.unet.weights);
const modelBytes = unetWeightBytes + bytesOf(model.vae.weights) + bytesOf(model.textEncoder.weights);
const matmul = buildMatmulProbe(matmulSize, matmulDepth);

// the default path, as users get it (or --threads)
const runtime = await createInferenceRuntime({executionProvider, ...(threads === undefined ? {} : {intraOpThreads: threads})});
// the reference: every core, whatever the UNet runs with
const referenceRuntime = await createInferenceRuntime({intraOpThreads: cores.threads});
log(`UNet threads ${runtime.threads.describe}; reference threads ${cores.threads} (every core: ${cores.describe})`);

type UnetRow = {
	size: number;
	latent: number;
	batch: number;
	timings: Timings;
	msPerFrame: number;
	gflops: number;
	finite: boolean;
	/** MatMul GFLOP/s of the bursts just before and just after this row (median of their runs). */
	reference: number;
};
type MatmulBurst = {when: string; timings: Timings};
const unetRows: UnetRow[] = [];
const matmulBursts: MatmulBurst[] = [];
const flopsBySize = new Map<number, UnetFlops>();
let sessionCreateMs: number;
let rssAfterSession: number;
let rssSteady: number;

try {
	const matmulSession = await referenceRuntime.createSession(matmul.spec);
	const matmulFeeds = matmul.feeds;
	// The reference is measured in short bursts between the UNet shapes rather than once: on a
	// shared 2-core machine the load changes within minutes, and interleaving exposes both
	// measurements to the same conditions (the table shows each burst, so drift is visible).
	const matmulBurst = async (when: string) => {
		const timings = await timeRuns(() => matmulSession.run(matmulFeeds), matmulBursts.length === 0 ? Math.max(warmup, 1) : 1, matmulRuns, cores.threads);
		matmulBursts.push({when, timings});
		log(`MatMul ${matmul.label} ${when}: median ${round(timings.median, 1)} ms, ${round(matmul.flops / timings.median / 1e6)} GFLOP/s`);
	};

	// UNet session: weights read in the worker, fp16 → fp32 casts folded at creation
	log(`creating the UNet session (${round(unetWeightBytes / 2 ** 30, 2)} GiB of fp16 weights)`);
	start = performance.now();
	const unet: InferenceSession = await runtime.createSession(specs.unet);
	sessionCreateMs = performance.now() - start;
	rssAfterSession = peakRssMb();
	log(`UNet session created in ${seconds(sessionCreateMs)} s; peak RSS ${Math.round(rssAfterSession)} MiB`);

	const textStates = seededNormal(4, 'bench.encoder_hidden_states', 77 * model.unet.config.crossAttentionDim);
	for (const size of sizes) {
		const latent = size / 8;
		const flops = countUnetFlops(model.unet.config, {height: latent, width: latent});
		flopsBySize.set(size, flops);
		for (const batch of batches) {
			await matmulBurst(`before ${size}² b${batch}`);
			const dims = [batch, model.unet.config.inChannels, latent, latent];
			const states = new Float32Array(batch * textStates.length);
			for (let i = 0; i < batch; i++) states.set(textStates, i * textStates.length);
			const feeds: Record<string, HostTensor> = {
				[UNET_IO.sample]: float32Tensor(seededNormal(3, `bench.sample.${size}`, dims.reduce((a, b) => a * b)), dims),
				[UNET_IO.timestep]: float32Tensor(Float32Array.of(500), [1]),
				[UNET_IO.encoderHiddenStates]: float32Tensor(states, [batch, 77, model.unet.config.crossAttentionDim]),
				// one frame per clip: every batch entry is its own clip, as independent frames
				[UNET_IO.referenceFrames]: int64Tensor([0], [1, 1]),
			};
			log(`UNet ${size}² (latents ${latent}²) batch ${batch}: ${warmup} warm-up + ${runs} timed runs`);
			let finite = true;
			const timings = await timeRuns(
				async () => {
					const out = await unet.run(feeds, {fetches: [UNET_IO.noisePred]});
					// NaN/inf from random weights would make the timing meaningless (and slow paths likely)
					const data = out[UNET_IO.noisePred].data as Float32Array;
					for (let i = 0; i < data.length; i += 97) if (!Number.isFinite(data[i])) finite = false;
				},
				warmup,
				runs,
				cores.threads,
			);
			const msPerFrame = timings.median / batch;
			const gflops = (flops.total * batch) / timings.median / 1e6;
			unetRows.push({size, latent, batch, timings, msPerFrame, gflops, finite, reference: 0});
			log(`  median ${round(timings.median)} ms → ${round(msPerFrame)} ms/frame, ${round(gflops)} GFLOP/s; peak RSS ${Math.round(peakRssMb())} MiB`);
		}
	}
	// what the process holds while a UNet is live, as opposed to the creation peak
	rssSteady = process.memoryUsage().rss / 2 ** 20;
	await unet.dispose();
	await matmulBurst('at the end');
} finally {
	await Promise.all([runtime.dispose(), referenceRuntime.dispose()]);
	rmSync(cacheDir, {recursive: true, force: true});
	if (flags.clean) {
		rmSync(modelDir, {recursive: true, force: true});
		log(`deleted ${modelDir}`);
	}
}

// figures
const matmulAll = matmulBursts.flatMap((burst) => burst.timings.timed);
const matmulMs = median(matmulAll);
const gflopsOf = (ms: number) => matmul.flops / ms / 1e6;
// burst i runs just before UNet row i, burst i + 1 just after it
unetRows.forEach((r, i) => (r.reference = gflopsOf(median([...matmulBursts[i].timings.timed, ...matmulBursts[i + 1].timings.timed]))));
const matmulGflops = gflopsOf(matmulMs);
const matmulBestGflops = gflopsOf(Math.min(...matmulAll));
const peakRss = peakRssMb();

const figures: Record<string, number | string | boolean> = {
	node: process.version,
	ort: ortVersion,
	cpus: os.cpus().length,
	cpu_simd: cpuSimd(),
	architecture,
	execution_provider: executionProvider,
	compute_type: computeType,
	cores: cores.threads,
	cores_source: cores.source,
	threads: runtime.threads.threads,
	threads_source: runtime.threads.source,
	reference_threads: cores.threads,
	runs,
	warmup,
	model_reused: generated.alreadyExisted,
	model_generate_s: seconds(generateMs),
	graphs_compile_s: seconds(graphsMs),
	session_create_s: seconds(sessionCreateMs),
	matmul_shape: matmul.label,
	matmul_ms: round(matmulMs, 2),
	matmul_gflops: round(matmulGflops),
	matmul_gflops_best: round(matmulBestGflops),
};
let budgetMet = true;
for (const size of sizes) {
	const flops = flopsBySize.get(size)!;
	figures[`unet_gflop_per_frame_${size}`] = round(flops.total / 1e9);
	const rows = unetRows.filter((r) => r.size === size);
	for (const row of rows) {
		figures[`unet_ms_${size}_b${row.batch}`] = round(row.msPerFrame);
		figures[`unet_gflops_${size}_b${row.batch}`] = round(row.gflops);
		figures[`unet_tflops_${size}_b${row.batch}`] = round(row.gflops / 1000, 3);
	}
	// the summary uses the batch size that runs best: that is the one a pipeline would pick
	const best = rows.reduce((a, b) => (b.gflops > a.gflops ? b : a));
	// against the MatMul measured around this very row, so load that drifts during the run cancels out
	const ratio = best.gflops / best.reference;
	budgetMet &&= ratio >= BUDGET;
	figures[`unet_ms_${size}`] = round(best.msPerFrame);
	figures[`unet_gflops_${size}`] = round(best.gflops);
	figures[`unet_best_batch_${size}`] = best.batch;
	figures[`unet_vs_matmul_${size}`] = round(ratio, 3);
}
figures.budget = BUDGET;
figures.budget_met = budgetMet;
figures.rss_after_generate_mb = Math.round(rssAfterGenerate);
figures.rss_after_session_mb = Math.round(rssAfterSession);
figures.rss_steady_mb = Math.round(rssSteady);
figures.peak_rss_mb = Math.round(peakRss);
// CPU share of the cores this process may use, per row; the lowest says how well the run used the machine
const allTimings = [...matmulBursts.map((b) => b.timings), ...unetRows.map((r) => r.timings)];
const lowestShare = Math.min(...allTimings.map((t) => median(t.cpuShare)));
const othersMax = Math.max(0, ...allTimings.map((t) => t.othersShare ?? 0));
// Noise only when the share is low AND other processes (or the hypervisor) really took CPU time
// during those rows; a low share on an idle machine means ORT left cores idle, which is a finding.
const LOW_SHARE = 0.9;
const OTHERS_TOOK = 0.1;
const lowRows = allTimings.filter((t) => median(t.cpuShare) < LOW_SHARE);
const noisy = lowRows.some((t) => (t.othersShare ?? 0) >= OTHERS_TOOK);
figures.cpu_share_min = round(lowestShare, 2);
figures.others_share_max = round(othersMax, 2);
figures.noisy = noisy;
figures.total_s = seconds(performance.now() - benchStart);

const list = (values: number[]) => values.map((v) => Math.round(v)).join(' ');
const gib = (bytes: number) => `${round(bytes / 2 ** 30, 2)} GiB`;
const row = (name: string, batch: string, t: Timings, msPerFrame: string, gflops: number, share: string) =>
	[
		name.padEnd(36),
		batch.padStart(5),
		String(round(t.median)).padStart(9),
		msPerFrame.padStart(9),
		String(round(gflops)).padStart(8),
		share.padStart(10),
		`${Math.round(100 * median(t.cpuShare))}%`.padStart(5),
		(t.othersShare === null ? '?' : `${Math.round(100 * t.othersShare)}%`).padStart(7),
		`  ${list(t.warmup)} | ${list(t.timed)}`,
	].join(' ');
const lines = [
	'',
	`UNet throughput: ${architecture === 'sd15' ? 'SD-1.5' : 'tiny'} architecture, random weights, ${computeType} compute, ${executionProvider} execution provider`,
	`node ${process.version} · onnxruntime-node ${ortVersion} · ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}, ${cpuSimd()}) · cores usable ${cores.describe} · UNet intra-op threads ${runtime.threads.describe} · reference ${cores.threads}`,
	`model ${modelDir} (${generated.alreadyExisted ? 'reused' : `generated in ${seconds(generateMs)} s`}; UNet weights ${gib(unetWeightBytes)} fp16)`,
	`graphs built in ${seconds(graphsMs)} s · UNet session created in ${seconds(sessionCreateMs)} s`,
	'FLOPs per frame-call, 2 per multiply-accumulate (norms, activations, softmax not counted):',
	...sizes.map((size) => {
		const f = flopsBySize.get(size)!;
		return `  ${size}²: ${round(f.total / 1e9)} GFLOP (conv ${round(f.conv / 1e9)}, linear ${round(f.linear / 1e9)}, attention ${round(f.attention / 1e9)})`;
	}),
	'',
	['case'.padEnd(36), 'batch', 'ms/call'.padStart(9), 'ms/frame'.padStart(9), 'GFLOP/s'.padStart(8), 'vs MatMul'.padStart(10), 'CPU'.padStart(5), 'others'.padStart(7), '  warm-up ms | timed ms'].join(' '),
	...matmulBursts.map((burst) => row(`MatMul ${matmul.label} ${burst.when}`, '-', burst.timings, '-', gflopsOf(burst.timings.median), '-')),
	...unetRows.map((r) =>
		row(`UNet ${r.size}² (latent ${r.latent}²)${r.finite ? '' : ' NaN!'}`, String(r.batch), r.timings, String(round(r.msPerFrame)), r.gflops, `${round((100 * r.gflops) / r.reference)} %`),
	),
	'',
	`MatMul reference (${matmul.label}, both operands fed at run time, ${cores.threads} threads): ${round(matmulGflops)} GFLOP/s (median of ${matmulAll.length} runs in ${matmulBursts.length} bursts; fastest run ${round(matmulBestGflops)}); each UNet row is compared with the bursts just before and after it`,
	`budget: UNet ≥ ${BUDGET * 100} % of MatMul → ${budgetMet ? 'met' : 'NOT met'} (${sizes
		.map((s) => `${s}²: ${round(100 * (figures[`unet_vs_matmul_${s}`] as number))} % at batch ${figures[`unet_best_batch_${s}`]}`)
		.join(', ')})`,
	`peak RSS ${Math.round(peakRss)} MiB (after generating ${Math.round(rssAfterGenerate)}, after UNet session creation ${Math.round(rssAfterSession)}; RSS with the UNet live ${Math.round(rssSteady)}) · total ${seconds(performance.now() - benchStart)} s`,
	`CPU share (this process's CPU time ÷ wall time × ${cores.threads} cores, median per row) ${Math.round(100 * lowestShare)} % at the lowest; other processes took at most ${Math.round(100 * othersMax)} % of the machine in a row`,
	...(noisy
		? ['⚠ other processes took the CPU during low-share rows, so ms and GFLOP/s are noisy; the vs-MatMul ratios hold up better, as each compares with MatMul bursts run under the same load']
		: lowRows.length > 0
			? [`note: CPU share below ${LOW_SHARE * 100} % with no competing load: ORT left cores idle (UNet threads ${runtime.threads.describe} of ${cores.threads} cores)`]
			: []),
	flags.clean ? 'model deleted (--clean)' : `model kept for the next run (${gib(modelBytes)} on disk; --clean deletes it)`,
];
console.log(lines.join('\n'));
console.log(JSON.stringify(figures));
