import {mkdirSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {engineRuns, runCli, runResult, tempWorkspace, testClip, writeFrames} from '../jobs/job-test-helpers.js';
import {openStore} from '../../plugin/store/open-store.js';
import type {SharedStore} from '../../plugin/store/shared-store.js';
import {S3_TEST_CREDENTIALS, startS3Server, type S3TestServer} from '../store/s3-test-server.js';
import {bundleQueueCli, startWorker, stopWorkers, type WorkerProcess} from './queue-test-helpers.js';
import {startRedis, type RedisTestServer} from './redis-test-server.js';

// Coordinators (`fatezero run --queue --store`) and workers (`fatezero worker`) as separate
// processes, on a real Redis (Debian's redis-server) and a local S3-compatible server, with the
// tiny random-weight model: 64² clips of 4 frames, 3 steps.

const workspace = tempWorkspace('queue');
const log = path.join(workspace, 'engine.log');
let redis: RedisTestServer;
let s3: S3TestServer;
let cli: string;
let storeUrl: string;
let store: SharedStore;
const workers: WorkerProcess[] = [];

const workerArgs = (i: number, store: string) => ['--queue', redis.url, '--store', store, '--cache-dir', path.join(workspace, `worker-${i}`), '--lock-duration-s', '3', '--stalled-interval-s', '1'];

/** A clip file in the workspace (its source, frames/, resolves against the file's folder). */
const clipFile = (name: string, overrides: Record<string, unknown>) => {
	const file = path.join(workspace, `${name}.json`);
	writeFileSync(file, JSON.stringify(testClip({label: name, ...overrides})));
	return file;
};

const coordinate = (file: string, cacheName: string, storeValue = storeUrl) =>
	runCli(cli, ['run', file, '--queue', redis.url, '--store', storeValue, '--cache-dir', path.join(workspace, cacheName), '--json-progress'], {env: {...S3_TEST_CREDENTIALS}, cwd: workspace});

const counts = (keys?: Set<string>) => {
	const runs = engineRuns(log).filter((r) => !keys || keys.has(r.key));
	return {invert: runs.filter((r) => r.kind === 'invert').length, edit: runs.filter((r) => r.kind === 'edit').length};
};

beforeAll(async () => {
	[redis, s3, cli] = await Promise.all([startRedis(), startS3Server(), bundleQueueCli(path.join(workspace, 'bin'))]);
	storeUrl = s3.storeUrl('shared');
	store = openStore(storeUrl);
	await writeFrames(path.join(workspace, 'frames'));
	mkdirSync(path.join(workspace, 'worker-0'), {recursive: true});
	workers.push(...(await Promise.all([0, 1, 2].map((i) => startWorker(cli, workerArgs(i, storeUrl), {FATEZERO_ENGINE_LOG: log})))));
}, 120_000);

afterAll(async () => {
	await stopWorkers(workers);
	await store?.close();
	await redis?.stop();
	await s3?.close();
});

describe('distributed runs: Redis, an S3 store and 3 workers', () => {
	it('three variants of one source: one inversion and three edits, each clip copied to its coordinator', async () => {
		const runs = ['red', 'blue', 'green'].map((color) => coordinate(clipFile(`v-${color}`, {prompt: `a ${color} car driving down a road`}), `coord-${color}`));
		const exits = await Promise.all(runs.map((r) => r.exit));
		for (const exit of exits) expect(exit.code, exit.stderr).toBe(0);
		const results = exits.map((e) => runResult(e.stdout));
		expect(new Set(results.map((r) => r.key)).size).toBe(3);
		expect(counts()).toEqual({invert: 1, edit: 3});
		// the work was spread: more than one worker ran an engine stage
		expect(new Set(engineRuns(log).map((r) => r.pid)).size).toBeGreaterThan(1);
		// progress came back from the workers through the queue
		expect(runs[0].events.some((e) => e.stage === 'edit')).toBe(true);
		expect(await store.verify()).toMatchObject({corrupt: []});
		expect((await store.list()).map((e) => e.kind).sort()).toEqual(['clips', 'clips', 'clips', 'inversions', 'sources']);
	});
});
