/**
 * One FateZero measurement in its own process (peak RSS is per process): load the engine, invert
 * and edit a clip for a few steps, print one JSON line. Spawned by fatezero-memory.bench.ts.
 */
import {readFileSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import {parseArgs} from 'node:util';
import {loadFateZero} from '../../plugin/fatezero/load-fatezero.js';
import {loadStableDiffusion} from '../../plugin/diffusion/load-stable-diffusion.js';
import {sampleLatents} from '../../plugin/diffusion/ddim-sampling.js';
import {runFateZero} from '../../plugin/fatezero/run-fatezero.js';
import {seededNormal} from '../../plugin/model/random-weights.js';

const {values} = parseArgs({
	options: {
		model: {type: 'string'},
		cache: {type: 'string'},
		size: {type: 'string', default: '512'},
		mode: {type: 'string', default: 'recompute'}, // recompute | stored | plain
		frames: {type: 'string', default: '8'},
		chunk: {type: 'string'},
		steps: {type: 'string', default: '3'},
		'execution-provider': {type: 'string', default: 'cpu'},
		'compute-type': {type: 'string', default: 'float32'},
	},
});
const executionProvider = values['execution-provider'] as 'cpu' | 'cuda' | 'webgpu';
const computeType = values['compute-type'] as 'float32' | 'float16';
const size = Number(values.size);
const frames = Number(values.frames);
const steps = Number(values.steps);
const rssMb = () => process.memoryUsage().rss / 2 ** 20;
// Linux: the high-water mark since the last reset (clear_refs 5), so the steps' peak is measured
// apart from session creation's.
const statusKb = (field: string) => Number(/\s(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith(field))!)![1]);
const resetPeak = () => writeFileSync('/proc/self/clear_refs', '5');
const highWaterMb = () => statusKb('VmHWM:') / 1024;
const pixels = seededNormal(7, 'frames', frames * 3 * size * size).map((v) => Math.tanh(v * 0.5));
const stepTimes: number[] = [];
// the high-water mark of each step (reset after each): where in the run the peak happens
const stepPeaks: {stage: string; step: number; peakMb: number}[] = [];
let overallStepsPeak = 0;
let loadPeak = 0; // session creation's high-water mark, read before the first reset
const recordStepPeak = (stage: string, step: number) => {
	const peak = highWaterMb();
	overallStepsPeak = Math.max(overallStepsPeak, peak);
	stepPeaks.push({stage, step, peakMb: Math.round(peak)});
	resetPeak();
};
let last = 0;
const onStep = () => {
	const now = performance.now();
	if (last) stepTimes.push(now - last);
	last = now;
};

if (values.mode === 'plain') {
	// a plain classifier-free-guidance step: the per-frame SD UNet, batch [uncond F | cond F]
	const sd = await loadStableDiffusion({modelDir: values.model!, cacheDir: values.cache!, referenceFramesMinChannels: 640, executionProvider, computeType});
	const afterLoad = rssMb();
	loadPeak = highWaterMb();
	resetPeak();
	const latent = size / 8;
	const dim = sd.model.unet.config.crossAttentionDim;
	const text = new Float32Array(77 * dim);
	await sampleLatents({
		unet: sd.unet,
		scheduler: sd.scheduler,
		latents: seededNormal(1, 'z', frames * 4 * latent * latent),
		latentShape: [frames, 4, latent, latent],
		text,
		unconditionalText: text,
		textShape: [1, 77, dim],
		guidance: 7.5,
		referenceFrames: [Array.from({length: frames}, () => Math.floor((frames - 1) / 2))],
		steps,
		onProgress: ({step}) => {
			recordStepPeak('plain', step);
			onStep();
		},
	});
	await sd.dispose();
	console.log(JSON.stringify({mode: 'plain', size, frames, afterLoadMb: afterLoad, peakMb: Math.max(loadPeak, overallStepsPeak, highWaterMb()), stepsPeakMb: Math.max(overallStepsPeak, highWaterMb()), stepPeaks, stepMs: stepTimes}));
} else {
	const engine = await loadFateZero({modelDir: values.model!, cacheDir: values.cache!, sizeInPixels: size, attentionSource: values.mode as 'recompute' | 'stored', executionProvider, computeType});
	const afterLoad = rssMb();
	loadPeak = highWaterMb();
	resetPeak();
	let phase = '';
	const result = await runFateZero({
		engine,
		pixels,
		frameCount: frames,
		sourcePrompt: 'a silver jeep driving down a curvy road in the countryside',
		edits: [{prompt: 'watercolor painting of a silver jeep driving down a curvy road in the countryside', reweight: {words: ['watercolor'], values: [10]}}],
		steps,
		attention: ['mid'],
		chunkSizeInFrames: values.chunk ? Number(values.chunk) : null,
		memoryBudgetInMegabytes: (os.totalmem() * 0.8) / 2 ** 20,
		decode: false,
		onProgress: ({stage, step}) => {
			recordStepPeak(stage, step);
			if (stage !== phase) {
				phase = stage;
				last = 0;
				if (stage === 'denoise') stepTimes.length = 0;
			}
			if (stage === 'denoise') onStep();
		},
	});
	await engine.dispose();
	// stored mode keeps every inversion step's queries/keys until editing: memory grows per step
	const storedMb = result.inversion.chunks.reduce((sum, chunk) => sum + (chunk.stored?.bytes ?? 0), 0) / 2 ** 20;
	const summary = {mode: values.mode, size, frames, chunk: result.chunkSizeInFrames, afterLoadMb: afterLoad, peakMb: Math.max(loadPeak, overallStepsPeak, highWaterMb()), stepsPeakMb: Math.max(overallStepsPeak, highWaterMb()), storedMbPerStep: storedMb / steps, stepPeaks, stepMs: stepTimes, timingsMs: result.timingsMs};
	console.error(JSON.stringify(summary)); // the whole record in the bench log
	console.log(JSON.stringify(summary));
}
