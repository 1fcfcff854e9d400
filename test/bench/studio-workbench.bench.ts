/**
 * Studio's workbench figures: `npm run bench:studio`.
 * On a full-size SD-1.5-architecture model with random weights (generated, never committed), at
 * 512² × 8 frames by default, through the clip job Studio runs (JobQueue, live previews on):
 * - the draft (DRAFT_SETTINGS: 256², 12 steps), computed to the end, as Studio computes it first;
 * - the final-quality job for `--steps` steps (default 3), with the time to its first live
 *   preview, each stage's step time and what the previews cost (their share of the job time);
 * - the full job at `--full-steps` (default 50) extrapolated from those step times (50 steps of
 *   512² × 8 frames take hours on a 2-core CPU; the rest of the job is measured as it is).
 * Prints a table, then one JSON object on the last line.
 */
import {mkdtempSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {parseArgs} from 'node:util';
import {draftClip} from '../../plugin/clip/draft-clip.js';
import {fateZeroClip} from '../../plugin/clip/fatezero-clip.js';
import type {JobProgress} from '../../plugin/jobs/job-progress.js';
import {JobQueue} from '../../plugin/jobs/job-queue.js';
import {PREVIEW_TIME_SHARE, type JobPreview} from '../../plugin/jobs/live-preview.js';
import {generateRandomModel} from '../../plugin/model-generator/generate-random-model.js';
import {writeFrames} from '../helpers/synthetic-frames.js';

const {values: flags} = parseArgs({
	options: {
		size: {type: 'string', default: '512'},
		frames: {type: 'string', default: '8'},
		steps: {type: 'string', default: '3'},
		'full-steps': {type: 'string', default: '50'},
		'model-dir': {type: 'string'},
	},
});
const size = Number(flags.size);
const frameCount = Number(flags.frames);
const steps = Number(flags.steps);
const fullSteps = Number(flags['full-steps']);
const modelDir = flags['model-dir'] ?? path.join(os.tmpdir(), 'fatezero-bench', 'sd15-random');
const generated = generateRandomModel({dir: modelDir, architecture: 'sd15', dtype: 'F16'});
console.log(`SD-1.5-architecture random model: ${generated.alreadyExisted ? 'reused' : 'generated'} at ${modelDir}`);
const work = mkdtempSync(path.join(os.tmpdir(), 'fatezero-bench-studio-'));
// the generated ONNX graphs are kept between runs (a Studio user has them after the first job);
// every entry of a clip is computed anew
const cacheDir = path.join(os.tmpdir(), 'fatezero-bench', 'studio-cache');
for (const kind of ['sources', 'inversions', 'clips', 'index']) rmSync(path.join(cacheDir, kind), {recursive: true, force: true});
await writeFrames(path.join(work, 'frames'), {count: frameCount, size});

type Run = {totalMs: number; firstPreviewMs: number | null; previews: JobPreview[]; stageMs: Record<string, number>; stepMs: Record<string, number[]>};

/** One clip job as Studio runs it, timed from the request. */
const runJob = async (descriptor: unknown): Promise<Run> => {
	const started = performance.now();
	const previews: JobPreview[] = [];
	let firstPreviewMs: number | null = null;
	const stageStart: Record<string, number> = {};
	const stageMs: Record<string, number> = {};
	const stepMs: Record<string, number[]> = {};
	const lastTick: Record<string, number> = {};
	const queue = new JobQueue({
		cacheDir,
		projectRoot: work,
		model: {value: modelDir, origin: 'bench'},
		onPreview: (preview) => {
			firstPreviewMs ??= performance.now() - started;
			previews.push(preview);
		},
		onProgress: (event: JobProgress) => {
			const now = performance.now();
			stageStart[event.stage] ??= now;
			stageMs[event.stage] = now - stageStart[event.stage];
			if ((event.stage === 'invert' || event.stage === 'edit') && event.step > 0) {
				(stepMs[event.stage] ??= []).push(now - (lastTick[event.stage] ?? stageStart[event.stage]));
			}
			lastTick[event.stage] = now;
		},
	});
	try {
		await queue.add(descriptor);
	} finally {
		await queue.close();
	}
	return {totalMs: performance.now() - started, firstPreviewMs, previews, stageMs, stepMs};
};

const clip = fateZeroClip({source: 'frames', sourcePrompt: 'a silver jeep driving down a road', prompt: 'a watercolor painting of a silver jeep driving down a road', size, frames: {count: frameCount}, steps: fullSteps});
const draft = draftClip(clip);
console.log(`draft: ${draft ? `${draft.size}² × ${frameCount} frames, ${draft.steps} steps` : 'none (the clip is as cheap as a draft)'}`);
const draftRun = draft ? await runJob(draft) : null;
const finalRun = await runJob({...clip, steps});

const mean = (values: number[] | undefined) => (values && values.length ? values.reduce((a, b) => a + b, 0) / values.length : Number.NaN);
// the steady step: the first of a stage carries ORT's warm-up
const steady = (values: number[] | undefined) => mean(values && values.length > 1 ? values.slice(1) : values);
const invertStepMs = steady(finalRun.stepMs.invert);
const editStepMs = steady(finalRun.stepMs.edit);
const loopMs = (finalRun.stageMs.invert ?? 0) + (finalRun.stageMs.edit ?? 0);
const fullJobMs = finalRun.totalMs - loopMs + fullSteps * (invertStepMs + editStepMs);
const previewCostMs = finalRun.previews.reduce((sum, p) => sum + p.costMs, 0);
const engineSteps = (finalRun.stepMs.invert?.length ?? 0) + (finalRun.stepMs.edit?.length ?? 0);
// the full job's previews under the same rule: one free per stage, then PREVIEW_TIME_SHARE of the engine time
const meanPreviewMs = mean(finalRun.previews.map((p) => p.costMs));
const fullEngineMs = fullSteps * (invertStepMs + editStepMs);
const fullPreviews = Math.min(2 * fullSteps, 2 + Math.floor((PREVIEW_TIME_SHARE * fullEngineMs) / meanPreviewMs));
const fullPreviewShare = (fullPreviews * meanPreviewMs) / fullJobMs;
const seconds = (ms: number | null) => (ms === null || !Number.isFinite(ms) ? 'n/a' : `${(ms / 1000).toFixed(1)} s`);

const rows: [string, string][] = [
	['first live preview (final job, from the request)', seconds(finalRun.firstPreviewMs)],
	['first live preview (draft job, from the request)', seconds(draftRun?.firstPreviewMs ?? null)],
	['finished draft', seconds(draftRun?.totalMs ?? null)],
	[`final job, ${steps} steps (measured)`, seconds(finalRun.totalMs)],
	['  inversion step / editing step (steady)', `${seconds(invertStepMs)} / ${seconds(editStepMs)}`],
	[`full job, ${fullSteps} steps (extrapolated)`, seconds(fullJobMs)],
	['previews in the measured job', `${finalRun.previews.length} over ${engineSteps} engine steps, ${seconds(previewCostMs)} = ${((100 * previewCostMs) / finalRun.totalMs).toFixed(1)} % of the job (budget ${PREVIEW_TIME_SHARE * 100} % of engine time)`],
	['one preview (x0 + VAE decode + PNG)', seconds(meanPreviewMs)],
	[`previews in the full job (expected)`, `${fullPreviews} (every ${(2 * fullSteps / fullPreviews).toFixed(1)} steps), ${(100 * fullPreviewShare).toFixed(1)} % of the job`],
];
for (const [name, value] of rows) console.log(`${name.padEnd(52)} ${value}`);
console.log(
	JSON.stringify({
		size,
		frames: frameCount,
		measuredSteps: steps,
		fullSteps,
		draft: draft ? {size: draft.size, steps: draft.steps, totalMs: Math.round(draftRun!.totalMs), firstPreviewMs: draftRun!.firstPreviewMs && Math.round(draftRun!.firstPreviewMs)} : null,
		final: {totalMs: Math.round(finalRun.totalMs), firstPreviewMs: finalRun.firstPreviewMs && Math.round(finalRun.firstPreviewMs), invertStepMs: Math.round(invertStepMs), editStepMs: Math.round(editStepMs)},
		fullJobMsExtrapolated: Math.round(fullJobMs),
		draftShareOfFullJob: draftRun ? Number((draftRun.totalMs / fullJobMs).toFixed(3)) : null,
		previews: {count: finalRun.previews.length, engineSteps, costMs: Math.round(previewCostMs), shareOfJob: Number((previewCostMs / finalRun.totalMs).toFixed(4)), meanCostMs: Math.round(meanPreviewMs)},
		fullJobPreviews: {count: fullPreviews, everySteps: Number(((2 * fullSteps) / fullPreviews).toFixed(1)), shareOfJob: Number(fullPreviewShare.toFixed(4))},
	}),
);
