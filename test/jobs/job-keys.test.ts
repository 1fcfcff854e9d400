import path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {EnginePool} from '../../plugin/jobs/engine-pool.js';
import {prepareClipJob, runClipJob} from '../../plugin/jobs/run-clip-job.js';
import {clipFrames, tempWorkspace, testClip, tinyModel, writeFrames} from './job-test-helpers.js';

// A key names exactly one result: what changes pixels outside the descriptor (the chunk size the
// memory budget yields, compute type, provider) is in the key, and what does not is not.

const workspace = tempWorkspace('jobs-keys');
const cacheDir = path.join(workspace, 'cache');
const pool = new EnginePool({cacheDir});
const descriptor = testClip({model: 'tiny-model'});
const job = (memoryBudgetInMegabytes: number) => runClipJob({descriptor, cacheDir, projectRoot: workspace, pool, memoryBudgetInMegabytes});

beforeAll(async () => {
	tinyModel(workspace);
	await writeFrames(path.join(workspace, 'frames'));
});
afterAll(() => pool.dispose());

describe('content keys of an engine run', () => {
	it('one clip under two memory budgets (one batch vs chunks) gets two keys and two sets of frames', async () => {
		const whole = await prepareClipJob({descriptor, cacheDir, projectRoot: workspace, pool, memoryBudgetInMegabytes: 100_000});
		const chunked = await prepareClipJob({descriptor, cacheDir, projectRoot: workspace, pool, memoryBudgetInMegabytes: 3});
		expect(whole.engineRun.chunkSizeInFrames).toBe(4);
		expect(chunked.engineRun.chunkSizeInFrames).toBeLessThan(4);
		expect(chunked.keys.sourceKey).toBe(whole.keys.sourceKey);
		expect(chunked.keys.inversionKey).not.toBe(whole.keys.inversionKey);
		expect(chunked.keys.editKey).not.toBe(whole.keys.editKey);

		const a = await job(100_000);
		const b = await job(3);
		expect(b.statuses).toEqual({source: 'hit', inversion: 'computed', clip: 'computed'});
		expect(b.manifest.data?.descriptorKey).toBe(a.manifest.data?.descriptorKey);
		const [framesA, framesB] = [clipFrames(a.path), clipFrames(b.path)];
		expect([...framesA.keys()]).toEqual([...framesB.keys()]);
		expect([...framesA.keys()].some((name) => !framesA.get(name)!.equals(framesB.get(name)!))).toBe(true);
	});

	it('a budget that yields the same chunk size shares the key (the budget itself is not in it)', async () => {
		const a = await prepareClipJob({descriptor, cacheDir, projectRoot: workspace, pool, memoryBudgetInMegabytes: 100_000});
		const b = await prepareClipJob({descriptor, cacheDir, projectRoot: workspace, pool, memoryBudgetInMegabytes: 50_000});
		expect(b.keys).toEqual(a.keys);
		expect((await job(50_000)).status).toBe('hit');
	});

	it('the compute type and the execution provider are in the keys', async () => {
		const base = await prepareClipJob({descriptor, cacheDir, projectRoot: workspace, pool});
		const half = await prepareClipJob({descriptor, cacheDir, projectRoot: workspace, pool: new EnginePool({cacheDir, computeType: 'float16'})});
		const cuda = await prepareClipJob({descriptor, cacheDir, projectRoot: workspace, pool: new EnginePool({cacheDir, executionProvider: 'cuda'})});
		expect(new Set([base.keys.inversionKey, half.keys.inversionKey, cuda.keys.inversionKey]).size).toBe(3);
		expect(new Set([base.keys.sourceKey, half.keys.sourceKey, cuda.keys.sourceKey]).size).toBe(1);
	});
});
