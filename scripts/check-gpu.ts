/**
 * `npm run check:gpu -- --execution-provider cuda|webgpu|cpu --out FILE [--dry-run]`: everything
 * the first GPU session needs to know, in one JSON file with the sections
 *   provider   binding and versions (ORT, Node, platform; the probe's verdict and fix)
 *   placement  `doctor --placement` in fp16 and fp32: nodes per provider, memory copies, fallbacks
 *   parity     the tiny random model against the CPU provider: doctor --reconstruct, and a 3-step
 *              `fatezero edit` in both attention sources with --save-latents, fp32 (TF32 off:
 *              NVIDIA_TF32_OVERRIDE=0) and fp16
 *   unet       bench:unet at 512², batches 1 and 8, fp16 and fp32: ms per frame-call and TFLOP/s
 *   fatezero   one edit of 8 frames × 50 steps at 512² on the SD-1.5-architecture random model,
 *              timed by stage (fp16 on a GPU, fp32 on the CPU)
 * Sized to fit 10 minutes on an H100-class GPU. --dry-run runs the same sequence at tiny sizes
 * (tiny model everywhere, 64², 2 frames, 3 steps) so it is known to work before a GPU appears; CI
 * runs it on the CPU provider. Progress on stderr; exit 1 when a check fails (the JSON says which).
 */
import {execFile} from 'node:child_process';
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs, promisify} from 'node:util';
import {runPlacementCheck, type PlacementCheck} from '../plugin/cli/placement-check.js';
import {readFrameFolder} from '../plugin/media/read-frame-folder.js';
import {writePngFrames} from '../plugin/media/write-png-frames.js';
import {generateRandomModel} from '../plugin/model-generator/generate-random-model.js';
import {readModelFolder} from '../plugin/model/read-model-folder.js';
import {readFloatTensor, readSafetensorsIndex} from '../plugin/model/safetensors-file.js';
import {parseExecutionProvider, probeExecutionProvider} from '../plugin/runtime/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = promisify(execFile);
const {values: flags} = parseArgs({
	options: {
		'execution-provider': {type: 'string', default: 'cpu'},
		out: {type: 'string'},
		'dry-run': {type: 'boolean', default: false},
		'work-dir': {type: 'string'},
	},
});
if (!flags.out) {
	console.error('check:gpu needs --out FILE (the JSON report). Example: npm run check:gpu -- --execution-provider cuda --out gpu-check.json');
	process.exit(2);
}
const provider = parseExecutionProvider(flags['execution-provider'], '--execution-provider');
const dry = flags['dry-run'];
const started = performance.now();
const log = (line: string) => console.error(`[check:gpu] ${line}`);
const seconds = (ms: number) => Math.round(ms / 100) / 10;
const work = flags['work-dir'] ? path.resolve(flags['work-dir']) : mkdtempSync(path.join(os.tmpdir(), 'fatezero-check-gpu-'));
mkdirSync(work, {recursive: true});
const cacheDir = path.join(work, 'cache');
const report: Record<string, unknown> = {dryRun: dry, provider: {requested: provider}};
const failures: string[] = [];

const finish = (): never => {
	report.ok = failures.length === 0;
	report.failures = failures;
	report.totalSeconds = seconds(performance.now() - started);
	mkdirSync(path.dirname(path.resolve(flags.out!)), {recursive: true});
	writeFileSync(path.resolve(flags.out!), `${JSON.stringify(report, null, '\t')}\n`);
	if (!flags['work-dir']) rmSync(work, {recursive: true, force: true});
	log(`${failures.length === 0 ? 'all checks passed' : `failed: ${failures.join('; ')}`} (${report.totalSeconds} s) → ${path.resolve(flags.out!)}`);
	process.exit(failures.length === 0 ? 0 : 1);
};

/** The fatezero CLI (TypeScript sources through tsx), with the env a GPU run needs. */
const fatezero = async (args: string[], env: Record<string, string> = {}): Promise<Record<string, unknown>> => {
	const {stdout} = await run(process.execPath, [path.join(root, 'bin/fatezero.js'), ...args], {cwd: work, env: {...process.env, ...env}, maxBuffer: 1 << 26});
	return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
};

const maxAbs = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const relativeRms = (a: Float32Array, b: Float32Array) => {
	let err = 0;
	let ref = 0;
	for (let i = 0; i < a.length; i++) {
		err += (a[i] - b[i]) ** 2;
		ref += b[i] ** 2;
	}
	return Math.sqrt(err / Math.max(ref, 1e-30));
};
const round = (x: number, digits = 3) => Number(x.toPrecision(digits));

// 1. provider binding and versions
const ortVersion = (createRequire(import.meta.url)('onnxruntime-node/package.json') as {version: string}).version;
const probe = await probeExecutionProvider(provider);
/**
 * The CUDA and cuDNN libraries the downloaded CUDA provider file asks the loader for (ldd), with
 * whether each was found: their sonames carry the majors this build needs (libcublasLt.so.N, libcudnn.so.N).
 */
const cudaLibraries = async (): Promise<{name: string; found: boolean}[] | string> => {
	const binDir = path.join(path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
	const library = path.join(binDir, 'libonnxruntime_providers_cuda.so');
	try {
		const {stdout} = await run('ldd', [library]);
		return stdout
			.split('\n')
			.map((line) => /^\s*(\S+) => (.*)$/.exec(line))
			.filter((m): m is RegExpExecArray => m !== null && /^lib(cu|nv)/.test(m[1]))
			.map((m) => ({name: m[1], found: !m[2].includes('not found')}));
	} catch (error) {
		return `ldd ${library}: ${(error as Error).message.split('\n')[0]}`;
	}
};
report.provider = {
	requested: provider,
	...probe,
	onnxruntimeNode: ortVersion,
	node: process.version,
	platform: `${os.platform()} ${os.arch()}`,
	cpus: os.cpus().length,
	cpuModel: os.cpus()[0]?.model.trim(),
	...(provider === 'cuda' ? {cudaLibraries: await cudaLibraries()} : {}),
};
log(`provider ${provider}: ${probe.available ? `binds (${probe.boundTo})` : `unavailable: ${probe.reason}`}; onnxruntime-node ${ortVersion}`);
if (!probe.available) {
	failures.push(`provider ${provider} does not bind: ${probe.reason}${probe.fix ? ` — ${probe.fix}` : ''}`);
	finish();
}

// models: the tiny random model for placement (dry) and parity; SD-1.5 architecture for the timings
const tinyModel = generateRandomModel({dir: path.join(cacheDir, 'models', 'tiny-random-sd')}).dir;
const bigModel = dry ? tinyModel : generateRandomModel({dir: path.join(os.tmpdir(), 'fatezero-bench', 'sd15-random'), architecture: 'sd15', seed: 0, dtype: 'F16'}).dir;
const size = dry ? 64 : 512;
const gpu = provider !== 'cpu';

// 2. placement, in both precisions, on the model the timings use
const placement: Record<string, PlacementCheck> = {};
for (const computeType of ['float16', 'float32'] as const) {
	placement[computeType] = await runPlacementCheck({model: readModelFolder(bigModel), cacheDir, provider, computeType, log: (line) => log(line)});
	if (!placement[computeType].ok) failures.push(`placement ${computeType}: heavy nodes on the CPU or empty inputs`);
}
report.placement = placement;

// 3. tiny-model parity against the CPU provider
const framesDir = path.join(work, 'frames');
const frameCount = 4; // parity runs; the folder holds 8 for the timed edit
const tinySize = 64;
{
	const plane = tinySize * tinySize;
	const hwc = new Float32Array(8 * plane * 3);
	for (let f = 0; f < 8; f++) for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) hwc[(f * plane + p) * 3 + c] = 0.5 + 0.4 * Math.sin((p % tinySize) / 7 + Math.floor(p / tinySize) / 11 + f / 3 + c);
	await writePngFrames(framesDir, hwc, 8, tinySize, tinySize);
}
const noTf32 = {NVIDIA_TF32_OVERRIDE: '0'};
const parity: Record<string, unknown> = {model: 'generated:tiny', frames: frameCount, size: tinySize};
// the parity runs are small and independent: they run side by side (the timed sections below do not)
const reconstructParity = async () => {
	// doctor --reconstruct: 3 DDIM steps there and back, the PNGs compared with the CPU's
	const reconstruct = async (on: string) => {
		const out = path.join(work, `reconstruct-${on}`);
		await fatezero(['doctor', '--model', tinyModel, '--cache-dir', cacheDir, '--reconstruct', framesDir, '--frames-count', String(frameCount), '--size', String(tinySize), '--steps', '3', '--execution-provider', on, '--out', out, '--json'], noTf32);
		return (await readFrameFolder(path.join(out, 'reconstructed'), tinySize, {start: 0, stride: 1, count: frameCount})).pixels;
	};
	const onProvider = await reconstruct(provider);
	const onCpu = gpu ? await reconstruct('cpu') : onProvider;
	// pixels in [-1, 1] from 8-bit PNGs: one 8-bit step is 2/255
	const steps8bit = maxAbs(onProvider, onCpu) * 127.5;
	parity.reconstruct = {maxDifference8bit: round(steps8bit), reference: gpu ? 'cpu' : 'same run (cpu)'};
	if (steps8bit > 2) failures.push(`parity: doctor --reconstruct differs from the CPU by ${steps8bit} 8-bit steps`);
};
const editParity = async (source: 'recompute' | 'stored') => {
	const edit = async (on: string, source: string, computeType: string) => {
		const latents = path.join(work, `edit-${on}-${source}-${computeType}.safetensors`);
		const summary = await fatezero(
			['edit', '--model', tinyModel, '--cache-dir', cacheDir, '--frames', framesDir, '--frames-count', String(frameCount), '--size', String(tinySize), '--steps', '3',
				'--source-prompt', 'a silver jeep driving down a curvy road', '--prompt', 'a red jeep driving down a curvy road', '--blend-words', 'silver:red', '--latent-blend',
				'--attention-source', source, '--storage-precision', 'float32', '--execution-provider', on, '--compute-type', computeType, '--out', path.join(work, `edit-${on}-${source}-${computeType}`), '--save-latents', latents, '--json'],
			computeType === 'float32' ? noTf32 : {},
		);
		const index = readSafetensorsIndex(latents);
		return {zT: readFloatTensor(index, 'zT').data, edited: readFloatTensor(index, 'edited.0').data, timingsMs: summary.timingsMs};
	};
	{
		const cpu32 = await edit('cpu', source, 'float32');
		const ours32 = gpu ? await edit(provider, source, 'float32') : cpu32;
		const ours16 = await edit(provider, source, 'float16');
		const fp32 = {zTMaxAbs: round(maxAbs(ours32.zT, cpu32.zT)), editedMaxAbs: round(maxAbs(ours32.edited, cpu32.edited)), editedRelativeRms: round(relativeRms(ours32.edited, cpu32.edited))};
		const fp16 = {zTMaxAbs: round(maxAbs(ours16.zT, cpu32.zT)), editedMaxAbs: round(maxAbs(ours16.edited, cpu32.edited)), editedRelativeRms: round(relativeRms(ours16.edited, cpu32.edited))};
		parity[source] = {fp32VsCpuFp32: fp32, fp16VsCpuFp32: fp16};
		log(`parity ${source}: fp32 edited max |Δ| ${fp32.editedMaxAbs}, fp16 relative RMS ${fp16.editedRelativeRms}`);
		// fp32 with TF32 off stays at float rounding; fp16 within the CPU-measured fp16 bound (README)
		if (fp32.editedMaxAbs > 2e-3) failures.push(`parity ${source} fp32: edited latents differ from the CPU by ${fp32.editedMaxAbs}`);
		if (fp16.editedRelativeRms > 0.05) failures.push(`parity ${source} fp16: edited latents differ from CPU fp32 by ${fp16.editedRelativeRms * 100} % RMS`);
	}
};
await Promise.all([reconstructParity(), editParity('recompute'), editParity('stored')]);
parity.edit = {steps: 3, reference: gpu ? 'cpu float32' : 'cpu float32 (the same run for fp32)', recompute: parity.recompute, stored: parity.stored};
delete parity.recompute;
delete parity.stored;
report.parity = parity;

// 4. bench:unet: ms per frame-call and TFLOP/s
const unet: Record<string, unknown> = {};
const unetSize = dry ? 64 : 512;
const batches = dry ? [1, 2] : [1, 8];
for (const computeType of ['float16', 'float32'] as const) {
	const args = [
		'--import', 'tsx', path.join(root, 'test/bench/unet-throughput.bench.ts'),
		'--execution-provider', provider, '--compute-type', computeType, '--sizes', String(unetSize), '--batches', batches.join(','),
		...(dry ? ['--architecture', 'tiny', '--model-dir', path.join(work, 'bench-tiny'), '--runs', '1', '--warmup', '1', '--matmul', '256', '--matmul-runs', '1'] : ['--runs', '5', '--warmup', '2', '--matmul-runs', '2']),
	];
	log(`bench:unet ${computeType} at ${unetSize}², batches ${batches.join(', ')}`);
	const {stdout} = await run(process.execPath, args, {cwd: root, env: computeType === 'float32' ? {...process.env, ...noTf32} : process.env, maxBuffer: 1 << 26});
	const figures = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, number>;
	unet[computeType] = Object.fromEntries(batches.map((batch) => [`batch${batch}`, {msPerFrameCall: figures[`unet_ms_${unetSize}_b${batch}`], tflops: figures[`unet_tflops_${unetSize}_b${batch}`]}]));
}
report.unet = {size: unetSize, architecture: dry ? 'tiny' : 'sd15', ...unet};

// 5. one FateZero edit, timed by stage
{
	const computeType = gpu ? 'float16' : 'float32';
	const frames = dry ? 2 : 8;
	const steps = dry ? 3 : 50;
	log(`fatezero edit: ${frames} frames × ${steps} steps at ${size}², ${computeType}`);
	const summary = await fatezero([
		'edit', '--model', bigModel, '--cache-dir', cacheDir, '--frames', framesDir, '--frames-count', String(frames), '--size', String(size), '--steps', String(steps),
		'--source-prompt', 'a silver jeep driving down a curvy road in the countryside', '--prompt', 'watercolor painting of a silver jeep driving down a curvy road in the countryside', '--reweight', 'watercolor=10',
		'--execution-provider', provider, '--compute-type', computeType, '--out', path.join(work, 'fatezero-edit'), '--json',
	]);
	const timings = summary.timingsMs as Record<string, number>;
	report.fatezero = {frames, steps, size, computeType, secondsByStage: Object.fromEntries(Object.entries(timings).map(([stage, ms]) => [stage, seconds(ms)])), budgetSeconds: dry ? null : 20};
}
finish();
