import {copyFileSync, cpSync} from 'node:fs';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest';
import {descriptorKey} from '../../plugin/clip/descriptor-key.js';
import {fateZeroClip} from '../../plugin/clip/fatezero-clip.js';
import {readIndex} from '../../plugin/frame-cache/descriptor-index.js';
import {EnginePool} from '../../plugin/jobs/engine-pool.js';
import {runClipJob, type ClipJobResult} from '../../plugin/jobs/run-clip-job.js';
import {encodeClip} from '../media/synthetic-clip.js';
import {clipFrames, engineRuns, tempWorkspace, testClip, tinyModel, writeFrames} from './job-test-helpers.js';

// Variants and keys through whole jobs (in this process, one engine shared by every job): which
// stages a descriptor change recomputes, counted in FATEZERO_ENGINE_LOG.

const workspace = tempWorkspace('jobs-variants');
const cacheDir = path.join(workspace, 'cache');
const log = path.join(workspace, 'engine.log');
const pool = new EnginePool({cacheDir});
const job = (overrides: Record<string, unknown>): Promise<ClipJobResult> =>
	runClipJob({descriptor: testClip({model: 'tiny-model', ...overrides}), cacheDir, projectRoot: workspace, pool});
const counts = () => {
	const runs = engineRuns(log);
	return {invert: runs.filter((r) => r.kind === 'invert').length, edit: runs.filter((r) => r.kind === 'edit').length};
};

beforeAll(async () => {
	tinyModel(workspace);
	await writeFrames(path.join(workspace, 'frames'));
	await writeFrames(path.join(workspace, 'video-frames'), {seed: 3});
	await encodeClip(path.join(workspace, 'video-frames'), path.join(workspace, 'clip.mp4'), {fps: 10, codec: 'h264'});
	vi.stubEnv('FATEZERO_ENGINE_LOG', log);
	vi.stubEnv('FATEZERO_MODEL', 'generated:tiny');
});
afterAll(async () => {
	vi.unstubAllEnvs();
	await pool.dispose();
});

describe('clip jobs sharing stages', () => {
	let first: ClipJobResult;
	let second: ClipJobResult;

	it('a second target prompt on the same source and source prompt reuses the import and the inversion', async () => {
		first = await job({});
		expect(first.statuses).toEqual({source: 'computed', inversion: 'computed', clip: 'computed'});
		expect(counts()).toEqual({invert: 1, edit: 1});

		second = await job({prompt: 'a blue truck driving down a road'});
		expect(second.statuses).toEqual({source: 'hit', inversion: 'hit', clip: 'computed'});
		expect([second.sourceKey, second.inversionKey]).toEqual([first.sourceKey, first.inversionKey]);
		expect(second.key).not.toBe(first.key);
		expect(counts()).toEqual({invert: 1, edit: 2});
		expect(clipFrames(second.path).size).toBe(4);
	});

	it('a label change is a hit on the same descriptor key', async () => {
		const labelled = await job({label: 'the red car'});
		expect(labelled.status).toBe('hit');
		expect(labelled.statuses).toEqual({source: 'skipped', inversion: 'skipped', clip: 'hit'});
		expect([labelled.descriptorKey, labelled.key]).toEqual([first.descriptorKey, first.key]);
		expect(counts()).toEqual({invert: 1, edit: 2});
	});

	it('a source file copied to another name reuses everything; changed content recomputes every stage', async () => {
		const original = await job({source: 'clip.mp4'});
		expect(original.statuses).toEqual({source: 'computed', inversion: 'computed', clip: 'computed'});
		expect(counts()).toEqual({invert: 2, edit: 3});

		copyFileSync(path.join(workspace, 'clip.mp4'), path.join(workspace, 'renamed.mp4'));
		const renamed = await job({source: 'renamed.mp4'});
		expect(renamed.status).toBe('hit');
		expect(renamed.descriptorKey).not.toBe(original.descriptorKey);
		expect([renamed.sourceKey, renamed.inversionKey, renamed.key]).toEqual([original.sourceKey, original.inversionKey, original.key]);
		expect(counts()).toEqual({invert: 2, edit: 3});

		// a frame folder copied elsewhere is the same content too
		cpSync(path.join(workspace, 'frames'), path.join(workspace, 'frames-copy'), {recursive: true});
		const copied = await job({source: 'frames-copy'});
		expect(copied.status).toBe('hit');
		expect(copied.key).toBe(first.key);

		// new content under the same name: a new source key, so a new inversion and a new edit
		await encodeClip(path.join(workspace, 'frames'), path.join(workspace, 'renamed.mp4'), {fps: 10, codec: 'h264'});
		const changed = await job({source: 'renamed.mp4'});
		expect(changed.statuses).toEqual({source: 'computed', inversion: 'computed', clip: 'computed'});
		expect(changed.descriptorKey).toBe(renamed.descriptorKey);
		expect(changed.sourceKey).not.toBe(renamed.sourceKey);
		expect(changed.inversionKey).not.toBe(renamed.inversionKey);
		expect(changed.key).not.toBe(renamed.key);
		expect(counts()).toEqual({invert: 3, edit: 4});
		// the index follows the content: the same descriptor key now resolves to the new edit
		expect((await readIndex(cacheDir, renamed.descriptorKey))?.editKey).toBe(changed.key);
	});

	it('the descriptor index maps each descriptor key (as the browser computes it) to its edit key', async () => {
		const browserKey = descriptorKey(fateZeroClip(testClip({model: 'tiny-model'}) as never));
		expect(browserKey).toBe(first.descriptorKey);
		expect(await readIndex(cacheDir, browserKey)).toMatchObject({
			descriptorKey: browserKey,
			editKey: first.key,
			sourceKey: first.sourceKey,
			inversionKey: first.inversionKey,
			descriptor: first.descriptor,
		});
		expect((await readIndex(cacheDir, second.descriptorKey))?.editKey).toBe(second.key);
	});
});
