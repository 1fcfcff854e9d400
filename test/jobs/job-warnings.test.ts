import path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {EnginePool} from '../../plugin/jobs/engine-pool.js';
import type {JobProgress} from '../../plugin/jobs/job-progress.js';
import {runClipJob} from '../../plugin/jobs/run-clip-job.js';
import {tempWorkspace, testClip, tinyModel, writeFrames} from './job-test-helpers.js';

// The engine's warnings reach a clip job's callers: the result, the clip manifest (so a cache hit
// still has them) and the progress events the Studio card shows.

const workspace = tempWorkspace('jobs-warnings');
const cacheDir = path.join(workspace, 'cache');
const pool = new EnginePool({cacheDir});
const longPrompt = `a red car ${'driving down a long and winding road '.repeat(12)}`;
const descriptor = testClip({model: 'tiny-model', prompt: longPrompt, edit: {blendWords: [['jeep'], ['bicycle']]}});

beforeAll(async () => {
	tinyModel(workspace);
	await writeFrames(path.join(workspace, 'frames'));
});
afterAll(() => pool.dispose());

describe('clip job warnings', () => {
	it('prompt truncation and target warnings are in the result, the manifest and the progress events, computed or cached', async () => {
		const events: JobProgress[] = [];
		const computed = await runClipJob({descriptor, cacheDir, projectRoot: workspace, pool, onProgress: (e) => events.push(e)});
		expect(computed.status).toBe('computed');
		expect(computed.warnings.some((w) => /77|truncat|cut/i.test(w))).toBe(true);
		expect(computed.warnings.some((w) => w.includes('bicycle'))).toBe(true);
		expect(computed.manifest.data?.warnings).toEqual(computed.warnings);
		expect(events.at(-1)?.warnings).toEqual(computed.warnings);

		const hitEvents: JobProgress[] = [];
		const hit = await runClipJob({descriptor, cacheDir, projectRoot: workspace, pool, onProgress: (e) => hitEvents.push(e)});
		expect(hit.status).toBe('hit');
		expect(hit.warnings).toEqual(computed.warnings);
		expect(hitEvents.at(-1)).toMatchObject({stage: 'done', warnings: computed.warnings});
	});
});
