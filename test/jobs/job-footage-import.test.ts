import {existsSync, readdirSync} from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import {beforeAll, describe, expect, it} from 'vitest';
import {listEntries} from '../../plugin/frame-cache/cache-maintenance.js';
import {readEntry} from '../../plugin/frame-cache/read-entry.js';
import type {EnginePool} from '../../plugin/jobs/engine-pool.js';
import type {JobProgress} from '../../plugin/jobs/job-progress.js';
import {runClipJob} from '../../plugin/jobs/run-clip-job.js';
import {readFloatTensor, readSafetensorsIndex} from '../../plugin/model/safetensors-file.js';
import {footageDir} from '../helpers/golden.js';
import {tempWorkspace, tinyModel} from './job-test-helpers.js';

// Real footage through a job's source stage (import, PNG frames, float pixels, publication). The
// job stops where the engine would load: this pool refuses, so no inversion runs at 512².

const carMp4 = path.join(footageDir, 'car-turn.mp4');
const carFolder = path.join(footageDir, 'car-turn');
const hasFootage = existsSync(carMp4) && existsSync(path.join(carFolder, '00000.png'));
if (!hasFootage) console.warn(`footage not found at ${footageDir}: the real-footage job import tests are skipped`);

const SOURCE_STAGE_ONLY = new Error('source stage only: the test pool loads no engine');
const sourceOnlyPool = {get: () => Promise.reject(SOURCE_STAGE_ONLY), dispose: async () => undefined} as unknown as EnginePool;

const workspace = tempWorkspace('jobs-footage');
let model: string;
beforeAll(() => {
	model = tinyModel(workspace);
});

/** Runs the job's source stage on `source` into a fresh cache; returns the published source entry, the stages seen and the wall time. */
const importThroughJob = async (source: string, cacheDir: string) => {
	const stages: JobProgress['stage'][] = [];
	const started = performance.now();
	const descriptor = {
		source,
		sourcePrompt: 'a silver jeep driving down a curvy road in the countryside',
		prompt: 'watercolor painting of a silver jeep driving down a curvy road in the countryside',
		model,
		frames: {count: 8},
		size: 512,
	};
	await expect(runClipJob({descriptor, cacheDir, pool: sourceOnlyPool, onProgress: (e) => stages.push(e.stage)})).rejects.toBe(SOURCE_STAGE_ONLY);
	const wallMs = performance.now() - started;
	const sources = (await listEntries(cacheDir)).filter((e) => e.kind === 'sources');
	expect(sources).toHaveLength(1);
	const entry = (await readEntry(cacheDir, 'sources', sources[0].key))!;
	return {entry, stages, wallMs};
};

const checkFrames = async (dir: string) => {
	const names = readdirSync(path.join(dir, 'frames')).sort();
	expect(names).toEqual(Array.from({length: 8}, (_, i) => `${String(i).padStart(5, '0')}.png`));
	for (const name of names) expect(await sharp(path.join(dir, 'frames', name)).metadata()).toMatchObject({format: 'png', width: 512, height: 512, channels: 3});
	const pixels = readFloatTensor(readSafetensorsIndex(path.join(dir, 'pixels.safetensors')), 'pixels');
	expect(pixels.shape).toEqual([8, 3, 512, 512]);
};

describe.skipIf(!hasFootage)('real footage through a job', () => {
	it('car-turn.mp4: 8 frames at 512², then a hit', {timeout: 60_000}, async () => {
		const cacheDir = path.join(workspace, 'cache-mp4');
		const {entry, stages, wallMs} = await importThroughJob(carMp4, cacheDir);
		expect(stages).toEqual(['import', 'import', 'load']);
		expect(entry.manifest).toMatchObject({frameCount: 8, width: 512, height: 512, fps: 10});
		expect(entry.manifest.data).toMatchObject({selectedSourceFrames: [0, 1, 2, 3, 4, 5, 6, 7], sourceInfo: {kind: 'video', width: 480, height: 480, fps: 10, codec: 'h264'}});
		await checkFrames(entry.path);
		const importMs = entry.manifest.timingsMs.import;
		console.log(
			`job source stage, car-turn.mp4 → 8 × 512²: import ${importMs.toFixed(0)} ms (${(importMs / 8).toFixed(1)} ms/frame), whole stage with PNGs and publication ${wallMs.toFixed(0)} ms (${(wallMs / 8).toFixed(1)} ms/frame)`,
		);
		// the second job finds the source published
		const again = await importThroughJob(carMp4, cacheDir);
		expect(again.stages).toEqual(['load']);
		expect(again.entry.manifest.createdAt).toBe(entry.manifest.createdAt);
	});

	it('the car-turn PNG folder: 8 frames at 512²', {timeout: 60_000}, async () => {
		const {entry, wallMs} = await importThroughJob(carFolder, path.join(workspace, 'cache-folder'));
		expect(entry.manifest).toMatchObject({frameCount: 8, width: 512, height: 512, fps: 10});
		expect(entry.manifest.data).toMatchObject({selectedSourceFrames: [0, 1, 2, 3, 4, 5, 6, 7], sourceInfo: {kind: 'frames', width: 512, height: 512, fps: null, frameCount: 8}});
		await checkFrames(entry.path);
		const importMs = entry.manifest.timingsMs.import;
		console.log(
			`job source stage, car-turn/ (8 PNGs) → 8 × 512²: import ${importMs.toFixed(0)} ms (${(importMs / 8).toFixed(1)} ms/frame), whole stage with PNGs and publication ${wallMs.toFixed(0)} ms (${(wallMs / 8).toFixed(1)} ms/frame)`,
		);
	});
});
