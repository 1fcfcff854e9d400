import os from 'node:os';
import path from 'node:path';
import {createRequire} from 'node:module';
import {parseArgs} from 'node:util';
import {FateZeroError} from '../errors/fatezero-error.js';
import {ATTENTION_PRESETS, type AttentionPreset} from '../clip/reference-frames.js';
import {loadFateZero} from '../fatezero/load-fatezero.js';
import {reconstructClip} from '../fatezero/reconstruct-clip.js';
import {resolveCacheDir} from '../project/resolve-cache-dir.js';
import {validateModelWeights} from '../graph/compile-model-graphs.js';
import {readModelFolder, type ModelFolder} from '../model/read-model-folder.js';
import {checkClipTokenizer, type TokenizerCheck} from '../diffusion/load-clip-tokenizer.js';
import {defaultThreadCount, parseExecutionProvider, probeExecutionProviders} from '../runtime/index.js';
import {readFrameFolder} from '../media/read-frame-folder.js';
import {writePngFrames} from '../media/write-png-frames.js';
import {integerOption, withArgErrors} from './parse-cli-args.js';
import {createProgressDisplay} from './progress-display.js';
import {runPlacementCheck} from './placement-check.js';
import {resolveCommandModel as resolveModelDir} from '../project/resolve-model.js';

export const DOCTOR_HELP = `fatezero doctor [--model DIR] [--reconstruct FRAMES_DIR] [options]

Prints the platform, the execution providers that can bind, and whether the model folder is valid.
With --reconstruct, runs the frames through the FateZero engine's stages (VAE encode, DDIM inversion
under --prompt, fused editing towards the same prompt at guidance 1, decode), writes PNGs and prints
the reconstruction PSNR.

Options:
  --model DIR              SD-1.x folder (diffusers layout). Default: FATEZERO_MODEL, else a generated
                           tiny random-weight model (noise-like results).
  --reconstruct DIR        Folder of PNG/JPEG frames to reconstruct.
  --prompt TEXT            Prompt for inversion and reconstruction. Default: "a video".
  --steps N                DDIM steps. Default 10.
  --frames-count N         Frames to take. Default 8.
  --start N / --stride N   Frame selection (stride = FateZero's sampling_rate). Default 0 / 1.
  --size PX                Square frame size (multiple of 64 for SD-1.x). Default: the VAE's sample_size.
  --attention NAME         ${Object.keys(ATTENTION_PRESETS).join(' | ')}. Default mid.
  --least-sc-channel N     UNet levels with fewer channels use per-frame attention. Default: the
                           second level's channels (640 for SD-1.x, as FateZero's style configs).
  --execution-provider P   cpu | cuda | webgpu. Default cpu.
  --placement              Run a small edit (2 frames, one inversion and one editing step) under ORT's
                           profiler on --execution-provider and print, per graph, the nodes per provider
                           and the memory copies; exit 1 when a Conv, MatMul/Gemm/FusedMatMul, attention or
                           normalisation node runs on the CPU under a GPU provider. --size sets the size
                           (default: the smallest the UNet takes).
  --compute-type T         float32 | float16 for --placement. Default float32.
  --threads N              ORT intra-op threads. Default FATEZERO_THREADS, else every core this process may use.
  --cache-dir DIR          Default FATEZERO_CACHE_DIR or ./cache.
  --out DIR                Where the PNGs go. Default <cache-dir>/doctor/reconstruct.
  --json                   Print a JSON summary as the last line.
  --json-progress          Reconstruction progress as NDJSON events on stderr ({"job": "doctor", "type":
                           "progress", "version": 1, …}) instead of a bar.`;

const onnxRuntimeVersion = (): string => {
	try {
		const require = createRequire(import.meta.url);
		return (require('onnxruntime-node/package.json') as {version: string}).version;
	} catch {
		return 'not installed';
	}
};

const describeModel = (model: ModelFolder): string => {
	const u = model.unet.config;
	const t = model.textEncoder.config;
	return [
		`UNet ${u.blockOutChannels.length} levels [${u.blockOutChannels.join(', ')}], ${u.layersPerBlock} layers per block, cross-attention ${u.crossAttentionDim}`,
		`text encoder ${t.numHiddenLayers} layers × ${t.hiddenSize}, vocabulary ${t.vocabSize}`,
		`VAE [${model.vae.config.blockOutChannels.join(', ')}], scaling ${model.vae.config.scalingFactor}`,
	].join('; ');
};

export const doctorCommand = async (args: string[]): Promise<number> => {
	const {values} = withArgErrors('doctor', () =>
		parseArgs({
			args,
			strict: true,
			options: {
		model: {type: 'string'},
		reconstruct: {type: 'string'},
		prompt: {type: 'string'},
		steps: {type: 'string'},
		'frames-count': {type: 'string'},
		start: {type: 'string'},
		stride: {type: 'string'},
		size: {type: 'string'},
		attention: {type: 'string'},
		'least-sc-channel': {type: 'string'},
		'execution-provider': {type: 'string'},
		placement: {type: 'boolean'},
		'compute-type': {type: 'string'},
		threads: {type: 'string'},
		'cache-dir': {type: 'string'},
		out: {type: 'string'},
		json: {type: 'boolean'},
		'json-progress': {type: 'boolean'},
			},
		}),
	);
	const summary: Record<string, unknown> = {};
	const cacheDir = resolveCacheDir(values['cache-dir']);
	const executionProvider = parseExecutionProvider(values['execution-provider'] ?? 'cpu', '--execution-provider');
	const attention = (values.attention ?? 'mid') as AttentionPreset;
	if (!Object.hasOwn(ATTENTION_PRESETS, attention)) {
		throw new FateZeroError('INVALID_OPTION', `--attention "${values.attention}" is not one of ${Object.keys(ATTENTION_PRESETS).join(', ')}.`);
	}

	// 1. platform
	const cpus = os.cpus();
	console.log(`Platform     ${os.platform()} ${os.arch()}, Node ${process.version}, ${cpus.length} CPU cores (${cpus[0]?.model.trim() ?? 'unknown'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM`);
	console.log(`ORT          onnxruntime-node ${onnxRuntimeVersion()}`);
	summary.platform = {os: os.platform(), arch: os.arch(), node: process.version, cpus: cpus.length};
	const threads = defaultThreadCount({threads: values.threads === undefined ? undefined : integerOption('threads', values.threads, 1)});
	console.log(`Threads      ${threads.describe}`);
	summary.threads = {count: threads.threads, source: threads.source};

	// 2. execution providers
	const probes = await probeExecutionProviders();
	for (const probe of probes) {
		const detail = probe.available ? `binds (${probe.boundTo})` : `unavailable: ${probe.reason ?? 'unknown reason'}${probe.missingLibrary ? ` (missing ${probe.missingLibrary})` : ''}${probe.fix ? `\n               fix: ${probe.fix}` : ''}`;
		console.log(`Provider     ${probe.provider.padEnd(7)}${probe.available ? '✔' : '✖'} ${detail}`);
	}
	summary.providers = Object.fromEntries(probes.map((p) => [p.provider, p.available]));

	// 3. model
	const resolved = resolveModelDir(values.model, cacheDir);
	console.log(resolved.notice);
	let model: ModelFolder;
	try {
		model = readModelFolder(resolved.dir);
		validateModelWeights(model);
	} catch (error) {
		console.log('Model        ✖ invalid');
		throw error;
	}
	console.log(`Model        ✔ valid: ${describeModel(model)}`);
	for (const warning of model.warnings) console.log(`  ⚠ ${warning}`);
	summary.model = {dir: model.dir, valid: true, generated: resolved.generated};
	let tokenizer: TokenizerCheck;
	try {
		tokenizer = await checkClipTokenizer(model.tokenizerDir, {textEncoderVocabSize: model.textEncoder.config.vocabSize});
	} catch (error) {
		console.log('Tokenizer    ✖ invalid');
		throw error;
	}
	console.log(`Tokenizer    ✔ ${tokenizer.vocabSize} tokens, ${tokenizer.mergeCount} merges; "${tokenizer.probe.prompt}" encodes to ${tokenizer.probe.tokens} tokens`);
	summary.tokenizer = {vocabSize: tokenizer.vocabSize, merges: tokenizer.mergeCount, probeTokens: tokenizer.probe.tokens};

	// 4. optional reconstruction
	if (values.reconstruct) {
		const steps = integerOption('steps', values.steps, 10);
		const size = integerOption('size', values.size, model.vae.config.sampleSize);
		const levels = model.unet.config.blockOutChannels.length;
		const multiple = 8 * 2 ** (levels - 1);
		if (size % multiple !== 0) {
			throw new FateZeroError('INVALID_OPTION', `--size ${size} must be a multiple of ${multiple} for this model (8× VAE, ${levels} UNet levels). Try ${Math.max(multiple, Math.round(size / multiple) * multiple)}.`);
		}
		const leastScChannel = integerOption('least-sc-channel', values['least-sc-channel'], model.unet.config.blockOutChannels[1] ?? 0, 0);
		const frames = await readFrameFolder(path.resolve(values.reconstruct), size, {
			start: integerOption('start', values.start, 0, 0),
			stride: integerOption('stride', values.stride, 1),
			count: integerOption('frames-count', values['frames-count'], 8),
		});
		const prompt = values.prompt ?? 'a video';
		console.log(`Reconstruct  ${frames.count} frames of ${values.reconstruct} at ${size}², ${steps} steps, prompt "${prompt}", attention ${attention} from ${leastScChannel} channels, ${executionProvider}`);
		const loadStart = performance.now();
		const display = createProgressDisplay({json: values['json-progress'] === true});
		// the engine every edit runs: FateZero's UNet and stages, reconstructing towards the same prompt
		const engine = await loadFateZero({modelDir: model.dir, cacheDir, executionProvider, intraOpThreads: threads.threads, sizeInPixels: size, leastScChannel});
		try {
			const loadMs = performance.now() - loadStart;
			const result = await reconstructClip({
				engine,
				pixels: frames.pixels,
				frameCount: frames.count,
				prompt,
				steps,
				attention: ATTENTION_PRESETS[attention],
				onProgress: display.engine('doctor'),
			});
			display.clear();
			for (const warning of result.warnings) console.log(`  ⚠ ${warning}`);
			const out = path.resolve(values.out ?? path.join(cacheDir, 'doctor', 'reconstruct'));
			await writePngFrames(path.join(out, 'reconstructed'), result.reconstructed, frames.count, size, size);
			await writePngFrames(path.join(out, 'vae-round-trip'), result.vaeRoundTrip, frames.count, size, size);
			await writePngFrames(path.join(out, 'input'), result.input, frames.count, size, size);
			const t = result.timingsMs;
			console.log(`Timings      load ${(loadMs / 1000).toFixed(1)} s, VAE+text encode ${(t.encode / 1000).toFixed(1)} s, inversion ${(t.invert / 1000).toFixed(1)} s, denoising ${(t.denoise / 1000).toFixed(1)} s, decode ${(t.decode / 1000).toFixed(1)} s`);
			console.log(`PSNR         reconstruction vs input ${result.psnrVsInputDb.toFixed(2)} dB (VAE round trip alone: ${result.psnrVaeRoundTripDb.toFixed(2)} dB); latent RMSE ${result.latentRmse.toFixed(4)}`);
			if (resolved.generated) console.log('             (random weights: these numbers only show the pipeline runs end to end)');
			console.log(`Wrote        ${out}/{reconstructed,vae-round-trip,input}/00000.png …`);
			summary.reconstruction = {
				frames: frames.count,
				size,
				steps,
				chunkSizeInFrames: result.chunkSizeInFrames,
				warnings: result.warnings,
				psnrDb: result.psnrVsInputDb,
				vaeRoundTripPsnrDb: result.psnrVaeRoundTripDb,
				latentRmse: result.latentRmse,
				timingsMs: {load: loadMs, ...t},
				out,
			};
		} finally {
			await engine.dispose();
		}
	}
	// 5. optional placement check (exit 1 when heavy nodes fell back to the CPU)
	let exitCode = 0;
	if (values.placement) {
		const computeType = values['compute-type'] ?? 'float32';
		if (computeType !== 'float32' && computeType !== 'float16') throw new FateZeroError('INVALID_OPTION', `--compute-type "${computeType}" is not one of float32, float16.`);
		const placement = await runPlacementCheck({model, cacheDir, provider: executionProvider, computeType, sizeInPixels: values.size === undefined ? undefined : integerOption('size', values.size, 64), threads: threads.threads});
		summary.placement = placement;
		if (!placement.ok) exitCode = 1;
	}
	if (values.json) console.log(JSON.stringify(summary));
	return exitCode;
};
