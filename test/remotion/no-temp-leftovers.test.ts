import {mkdtempSync, readdirSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterAll, describe, expect, it, vi} from 'vitest';
import {prerender} from '../../plugin/node/prerender.js';
import {BROWSER, demoProject, tempProject, testSettings, tinyClip, writeFrames} from './remotion-test-helpers.js';

// Nothing outside the cache (issue 16): a prerender bundles the project into the temp dir and
// creates ORT sessions; neither the ~27 MB bundle nor ORT's telemetry files may stay behind.

const root = tempProject('no-temp-leftovers');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'fatezero-tmpdir-'));
afterAll(() => rmSync(tmp, {recursive: true, force: true}));

describe('prerender leaves nothing in the temp dir', () => {
	it('no remotion-webpack-bundle-*, no mat-debug-*.log', {timeout: 300_000}, async () => {
		await writeFrames(path.join(root, 'frames'));
		const settings = testSettings(root);
		const project = await demoProject(settings);
		// os.tmpdir() reads TMPDIR on every call: the bundler and ORT's first session land here
		vi.stubEnv('TMPDIR', tmp);
		try {
			const result = await prerender({entryPoint: 'remotion/index.ts', compositionId: 'ClipInSequence', inputProps: {clip: tinyClip('frames', 'a red car on a road'), from: 0}, settings, project, browserExecutable: BROWSER});
			expect(result.clips).toHaveLength(1);
		} finally {
			vi.unstubAllEnvs();
		}
		expect(readdirSync(tmp).filter((name) => name.startsWith('remotion-webpack-bundle-') || name.startsWith('mat-debug-'))).toEqual([]);
	});
});
