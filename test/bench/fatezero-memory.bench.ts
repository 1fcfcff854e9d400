/**
 * FateZero's memory and fusion overhead: `npm run bench:fatezero`.
 * On a full-size SD-1.5-architecture model with random weights (generated, never committed), each
 * measurement runs in its own process (peak RSS is per process):
 * - peak RSS for 8 frames at 256² and 512² in both attention-source modes, and what the
 *   weights alone take (RSS after loading), so "beyond the weights" = peak − after load;
 * - one fused editing step ÷ one plain classifier-free-guidance step, same run;
 * - peak RSS at 8, 16, 32 and 64 frames with chunks of 8 (256²).
 * Runs a few steps (`--steps`), not 50: memory is per step, and 50 steps of 512² take hours on a
 * CPU. Prints a table, then one JSON object on the last line.
 */
import {execFileSync} from 'node:child_process';
import {mkdtempSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {parseArgs} from 'node:util';
import {fileURLToPath} from 'node:url';
import {generateRandomModel} from '../../plugin/model-generator/generate-random-model.js';

const {values: flags} = parseArgs({
	options: {
		steps: {type: 'string', default: '3'},
		sizes: {type: 'string', default: '256,512'},
		'chunk-frames': {type: 'string', default: '8,16,32,64'},
		'chunk-size': {type: 'string', default: '256'},
		// memory is per step and flat from the first one (bench output: stepPeaks), so one step suffices
		'chunk-steps': {type: 'string', default: '1'},
		'model-dir': {type: 'string'},
		// where and in what precision the engine runs (the measurements are the same on any provider)
		'execution-provider': {type: 'string', default: 'cpu'},
		'compute-type': {type: 'string', default: 'float32'},
	},
});
const here = path.dirname(fileURLToPath(import.meta.url));
const modelDir = flags['model-dir'] ?? path.join(os.tmpdir(), 'fatezero-bench', 'sd15-random');
const generated = generateRandomModel({dir: modelDir, architecture: 'sd15', dtype: 'F16'});
console.log(`SD-1.5-architecture random model: ${generated.alreadyExisted ? 'reused' : 'generated'} at ${modelDir}`);
const cache = mkdtempSync(path.join(os.tmpdir(), 'fatezero-bench-cache-'));

/** afterLoadMb: RSS with every model loaded (the weights); stepsPeakMb: the high-water mark from then on; peakMb: the whole process's, session creation included. */
type Measure = {mode: string; size: number; frames: number; chunk?: number; afterLoadMb: number; peakMb: number; stepsPeakMb: number; storedMbPerStep?: number; stepMs: number[]};
const measure = (args: Record<string, string | number>): Measure => {
	const argv = Object.entries({steps: flags.steps, 'execution-provider': flags['execution-provider'], 'compute-type': flags['compute-type'], ...args}).flatMap(([k, v]) => [`--${k}`, String(v)]);
	const out = execFileSync(process.execPath, ['--import', 'tsx', path.join(here, 'fatezero-step.child.ts'), '--model', modelDir, '--cache', cache, ...argv], {encoding: 'utf8', maxBuffer: 1 << 24});
	const result = JSON.parse(out.trim().split('\n').at(-1)!) as Measure;
	console.log(`  ${JSON.stringify(args)} → peak ${result.peakMb.toFixed(0)} MB (steps ${result.stepsPeakMb.toFixed(0)} MB), after load ${result.afterLoadMb.toFixed(0)} MB, steps ${result.stepMs.map((s) => (s / 1000).toFixed(1)).join(' / ')} s`);
	return result;
};
// the steady step: the last one (the first carries ORT's warm-up)
const stepOf = (m: Measure) => m.stepMs.at(-1) ?? Number.NaN;

const figures: Record<string, number | string> = {execution_provider: flags['execution-provider'], compute_type: flags['compute-type']};
for (const size of flags.sizes.split(',').map(Number)) {
	const recompute = measure({size, mode: 'recompute', frames: 8});
	const stored = measure({size, mode: 'stored', frames: 8});
	const plain = measure({size, mode: 'plain', frames: 8});
	figures[`peak_rss_mb_recompute_${size}`] = Math.round(recompute.peakMb);
	figures[`peak_rss_mb_stored_${size}`] = Math.round(stored.peakMb);
	figures[`beyond_weights_mb_recompute_${size}`] = Math.round(recompute.stepsPeakMb - recompute.afterLoadMb);
	figures[`beyond_weights_mb_stored_${size}`] = Math.round(stored.stepsPeakMb - stored.afterLoadMb);
	figures[`beyond_weights_mb_plain_${size}`] = Math.round(plain.stepsPeakMb - plain.afterLoadMb);
	// stored mode keeps each inversion step's queries/keys until editing ends: extrapolate to 50 steps
	figures[`stored_mb_per_step_${size}`] = Math.round(stored.storedMbPerStep ?? 0);
	figures[`peak_rss_mb_stored_${size}_50_steps`] = Math.round(stored.peakMb + (50 - Number(flags.steps)) * (stored.storedMbPerStep ?? 0));
	figures[`weights_mb_${size}`] = Math.round(recompute.afterLoadMb);
	figures[`fused_vs_plain_recompute_${size}`] = Math.round((stepOf(recompute) / stepOf(plain)) * 100) / 100;
	figures[`fused_vs_plain_stored_${size}`] = Math.round((stepOf(stored) / stepOf(plain)) * 100) / 100;
	figures[`plain_step_s_${size}`] = Math.round(stepOf(plain) / 100) / 10;
}
const largest = Math.max(...flags.sizes.split(',').map(Number));
figures.weights_mb = figures[`weights_mb_${largest}`];
figures.fused_vs_plain_recompute = figures[`fused_vs_plain_recompute_${largest}`];
const num = (key: string) => figures[key] as number;
figures.fused_vs_plain_stored = figures[`fused_vs_plain_stored_${largest}`];
for (const frames of flags['chunk-frames'].split(',').map(Number)) {
	const m = measure({size: Number(flags['chunk-size']), mode: 'recompute', frames, chunk: 8, steps: flags['chunk-steps']});
	figures[`rss_mb_frames_${frames}`] = Math.round(m.peakMb);
	figures[`beyond_weights_mb_frames_${frames}`] = Math.round(m.stepsPeakMb - m.afterLoadMb);
}
const rss = flags['chunk-frames'].split(',').map((f) => num(`rss_mb_frames_${f}`));
figures.rss_chunk_spread = Math.round((Math.max(...rss) / Math.min(...rss) - 1) * 1000) / 1000;

console.log('\n| figure | value |\n|---|---|');
for (const [k, v] of Object.entries(figures)) console.log(`| ${k} | ${v} |`);
console.log(JSON.stringify(figures));
