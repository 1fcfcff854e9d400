import {readdirSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import {beforeAll, describe, expect, it} from 'vitest';
import {verifyEntry} from '../../plugin/frame-cache/read-entry.js';
import {bundleCli, clipFrames, engineRuns, expectOnlyVerifiedEntries, runCli, runResult, tempWorkspace, testClip, writeFrames} from './job-test-helpers.js';

const workspace = tempWorkspace('jobs-concurrent');
const clipFile = path.join(workspace, 'clip.json');
let cli: string;

beforeAll(async () => {
	[cli] = await Promise.all([bundleCli(path.join(workspace, 'bin')), writeFrames(path.join(workspace, 'frames'))]);
	writeFileSync(clipFile, JSON.stringify(testClip()));
});

/** The summary row `fatezero run` prints: clip, key, source, inversion, edit, time. */
const summaryRow = (stdout: string): {source: string; inversion: string; edit: string} => {
	const lines = stdout.trim().split('\n');
	const [, , source, inversion, edit] = lines[lines.length - 2].trim().split(/\s+/);
	return {source, inversion, edit};
};

describe('the same clip asked by 4 processes at once', () => {
	it('runs the engine once for the inversion and once for the edit; all get the same published frames', {timeout: 120_000}, async () => {
		const cacheDir = path.join(workspace, 'cache');
		const log = path.join(workspace, 'engine.log');
		// No model configured: the first job generates the tiny model under the cache, the others wait for it.
		const started = performance.now();
		const runs = Array.from({length: 4}, () => runCli(cli, ['run', clipFile, '--cache-dir', cacheDir, '--json-progress'], {env: {FATEZERO_ENGINE_LOG: log}}));
		const exits = await Promise.all(runs.map((run) => run.exit));
		console.log(`4 concurrent runs of one clip: ${((performance.now() - started) / 1000).toFixed(1)} s`);
		for (const exit of exits) expect(exit.code, exit.stderr).toBe(0);

		const results = exits.map((exit) => runResult(exit.stdout));
		expect(new Set(results.map((r) => r.key)).size).toBe(1);
		expect(new Set(results.map((r) => r.path)).size).toBe(1);
		const statuses = results.map((r) => r.status);
		expect(statuses.filter((s) => s === 'computed')).toHaveLength(1);
		expect(statuses.filter((s) => s === 'joined' || s === 'hit')).toHaveLength(3);
		// per stage too: one process imported, inverted and edited; the others joined or hit
		const rows = exits.map((exit) => summaryRow(exit.stdout));
		for (const stage of ['source', 'inversion', 'edit'] as const) {
			expect(rows.filter((row) => row[stage] === 'computed'), stage).toHaveLength(1);
			expect(rows.every((row) => ['computed', 'joined', 'hit', 'skipped'].includes(row[stage])), stage).toBe(true);
		}

		const engine = engineRuns(log);
		expect(engine.filter((r) => r.kind === 'invert')).toHaveLength(1);
		expect(engine.filter((r) => r.kind === 'edit')).toHaveLength(1);
		// (the inversion and the edit may be computed by different processes: after waiting for the inversion, another one can win the clip's lock)
		console.log(`per process (source/inversion/edit): ${rows.map((row) => `${row.source}/${row.inversion}/${row.edit}`).join(', ')}`);

		// one published entry, complete and intact, with 4 decodable 64×64 frames
		const verified = await verifyEntry(cacheDir, 'clips', results[0].key);
		expect(verified).toMatchObject({ok: true, problems: []});
		const frames = clipFrames(results[0].path);
		expect([...frames.keys()]).toEqual(['00000.png', '00001.png', '00002.png', '00003.png']);
		for (const png of frames.values()) expect(await sharp(png).metadata()).toMatchObject({width: 64, height: 64, channels: 3});
		expect(await expectOnlyVerifiedEntries(cacheDir)).toEqual({entries: 3, temp: 0, locks: 0, trash: 0});
		// the generated model is in place (the other processes waited for it instead of regenerating it) and its lock is gone
		expect(readdirSync(path.join(cacheDir, 'models'))).toEqual(['tiny-random-sd']);
	});
});
