/**
 * How far chunked editing is from the exact full-clip batch: `npm run bench:chunks`.
 * The official UNet pools its ResNet GroupNorm statistics over every frame of the clip, so one
 * batch of the whole clip is the exact mode; chunks share the reference frames' keys/values but
 * normalise with their own statistics. For 16 and 32 frames of the car-turn footage this edits the
 * clip once as one batch and once in chunks of 8, decodes both and reports the PSNR of the chunked
 * frames against the full-batch frames (higher is closer; ∞ = identical).
 *
 * Default model: the generated tiny random-weight model (what CI can run). Its PSNR only says how
 * much the per-chunk statistics move a random network; pass `--model-dir` with a real SD-1.x folder
 * for the figure users care about. Prints a table, then one JSON object on the last line.
 */
import {mkdtempSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {parseArgs} from 'node:util';
import {fileURLToPath} from 'node:url';
import {loadFateZero} from '../../plugin/fatezero/load-fatezero.js';
import {runFateZero} from '../../plugin/fatezero/run-fatezero.js';
import {importSource} from '../../plugin/media/import-source.js';
import {generateRandomModel} from '../../plugin/model-generator/generate-random-model.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const {values: flags} = parseArgs({
	options: {
		'model-dir': {type: 'string'},
		source: {type: 'string', default: path.resolve(here, '../../../shared/footage/car-turn.mp4')},
		size: {type: 'string', default: '256'},
		frames: {type: 'string', default: '16,32'},
		chunk: {type: 'string', default: '8'},
		steps: {type: 'string', default: '10'},
		// the tiny model's levels have 32/64/64 channels: 64 puts its deepest levels on reference frames
		'least-sc-channel': {type: 'string'},
	},
});

const generated = flags['model-dir'] === undefined;
const modelDir = flags['model-dir'] ?? path.join(os.tmpdir(), 'fatezero-bench', 'tiny-random');
if (generated) generateRandomModel({dir: modelDir, architecture: 'tiny'});
console.log(generated ? `model: the generated tiny random-weight model at ${modelDir} (pass --model-dir for a real SD-1.x folder)` : `model: ${modelDir}`);
const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'fatezero-chunk-bench-'));
const size = Number(flags.size);
const chunk = Number(flags.chunk);
const steps = Number(flags.steps);
const leastScChannel = flags['least-sc-channel'] !== undefined ? Number(flags['least-sc-channel']) : generated ? 64 : 640;

const psnr = (a: Float32Array, b: Float32Array): number => {
	let squared = 0;
	for (let i = 0; i < a.length; i++) squared += (a[i] - b[i]) ** 2;
	const mse = squared / a.length;
	return mse === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10(1 / mse);
};

const engine = await loadFateZero({modelDir, cacheDir, sizeInPixels: size, leastScChannel});
const figures: Record<string, number> = {};
try {
	for (const frameCount of flags.frames.split(',').map(Number)) {
		const source = await importSource({source: flags.source, frames: {start: 0, count: frameCount, stride: 1}, size});
		const options = {
			engine,
			pixels: source.pixels,
			frameCount,
			sourcePrompt: 'a silver jeep driving down a curvy road in the countryside',
			edits: [{prompt: 'watercolor painting of a silver jeep driving down a curvy road in the countryside', reweight: {words: ['watercolor'], values: [10]}}],
			steps,
			memoryBudgetInMegabytes: (os.totalmem() * 0.8) / 2 ** 20,
		};
		const full = await runFateZero({...options, chunkSizeInFrames: frameCount});
		const chunked = await runFateZero({...options, chunkSizeInFrames: chunk});
		const value = psnr(full.edited[0].frames!, chunked.edited[0].frames!);
		figures[`psnr_db_chunks_of_${chunk}_frames_${frameCount}`] = Math.round(value * 10) / 10;
		console.log(`  ${frameCount} frames, chunks of ${chunk} vs one batch: PSNR ${value.toFixed(1)} dB`);
	}
} finally {
	await engine.dispose();
	rmSync(cacheDir, {recursive: true, force: true});
}
console.log('\n| figure | value |\n|---|---|');
for (const [k, v] of Object.entries(figures)) console.log(`| ${k} | ${v} |`);
console.log(JSON.stringify({model: generated ? 'tiny-random' : modelDir, size, steps, ...figures}));
