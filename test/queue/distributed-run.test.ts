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

	it('SIGKILL of the worker running an edit: another worker re-runs it, every manifest verifies, and no reader sees a partial entry', async () => {
		const before = engineRuns(log).length;
		const problems: string[] = [];
		let reads = 0;
		let reading = true;
		// a reader polling the store the whole time: every manifest it finds must have all its files, intact
		const reader = (async () => {
			while (reading) {
				for (const info of await store.list()) {
					const entry = await store.open(info.kind, info.key);
					if (!entry) continue;
					for (const name of Object.keys(entry.manifest.files)) {
						const bytes = await entry.readFile(name).catch((error: Error) => {
							problems.push(`${info.kind}/${info.key}/${name}: ${error.message}`);
							return null;
						});
						if (bytes && bytes.length !== entry.manifest.files[name].bytes) problems.push(`${info.kind}/${info.key}/${name}: ${bytes.length} bytes`);
					}
					reads++;
				}
				await new Promise((r) => setTimeout(r, 50));
			}
		})();
		const run = coordinate(clipFile('v-killed', {prompt: 'a white van driving down a road', steps: 6}), 'coord-killed');
		let killed: number | null = null;
		while (killed === null) {
			const edit = engineRuns(log).slice(before).find((r) => r.kind === 'edit');
			if (edit) {
				killed = edit.pid;
				process.kill(killed, 'SIGKILL');
			}
			await new Promise((r) => setTimeout(r, 20));
		}
		const exit = await run.exit;
		reading = false;
		await reader;
		expect(exit.code, exit.stderr).toBe(0);
		const edits = engineRuns(log).slice(before).filter((r) => r.kind === 'edit' && r.key === runResult(exit.stdout).key);
		expect(edits).toHaveLength(2);
		expect(edits[0].pid).toBe(killed);
		expect(edits[1].pid).not.toBe(killed);
		expect(problems).toEqual([]);
		expect(reads).toBeGreaterThan(0);
		expect(await store.verify()).toMatchObject({corrupt: []});
		// the killed worker is replaced for the tests that follow
		const index = workers.findIndex((w) => w.pid === killed);
		workers[index] = await startWorker(cli, workerArgs(index, storeUrl), {FATEZERO_ENGINE_LOG: log});
	});

	it('two coordinators submitting the same variants at once: each inversion and each edit is computed once', async () => {
		const before = engineRuns(log).length;
		const files = ['dup-a', 'dup-b'].map((name) => clipFile(name, {sourcePrompt: 'a grey jeep driving down a road', prompt: `a ${name === 'dup-a' ? 'yellow' : 'black'} jeep driving down a road`}));
		const runs = [0, 1].flatMap((c) => files.map((file) => coordinate(file, `coord-dup-${c}`)));
		const exits = await Promise.all(runs.map((r) => r.exit));
		for (const exit of exits) expect(exit.code, exit.stderr).toBe(0);
		expect(new Set(exits.map((e) => runResult(e.stdout).key)).size).toBe(2);
		const runsNow = engineRuns(log).slice(before);
		expect({invert: runsNow.filter((r) => r.kind === 'invert').length, edit: runsNow.filter((r) => r.kind === 'edit').length}).toEqual({invert: 1, edit: 2});
	});

	it('Redis restarted mid-batch (losing every job): the coordinator carries on and nothing is lost', async () => {
		const run = coordinate(clipFile('v-restart', {sourcePrompt: 'a blue jeep on a road', prompt: 'a pink jeep on a road'}), 'coord-restart');
		await new Promise<void>((resolve) => run.onEvent((e) => (e.stage === 'queued' ? resolve() : undefined)));
		await redis.stop();
		await new Promise((r) => setTimeout(r, 1500));
		await redis.start();
		const exit = await run.exit;
		expect(exit.code, exit.stderr).toBe(0);
		const key = runResult(exit.stdout).key;
		expect(await store.head('clips', key)).not.toBeNull();
		expect(await store.verify()).toMatchObject({corrupt: []});
	});
});

describe('fatezero cache on the S3 store', () => {
	it('ls lists every entry and verify re-hashes them all', async () => {
		const ls = await runCli(cli, ['cache', 'ls', '--store', storeUrl, '--json'], {env: {...S3_TEST_CREDENTIALS}}).exit;
		expect(ls.code, ls.stderr).toBe(0);
		const listed = JSON.parse(ls.stdout.trim().split('\n').pop()!) as {entries: {kind: string; valid: boolean}[]};
		expect(listed.entries.length).toBeGreaterThanOrEqual(5);
		expect(listed.entries.every((e) => e.valid)).toBe(true);
		const verify = await runCli(cli, ['cache', 'verify', '--store', storeUrl], {env: {...S3_TEST_CREDENTIALS}}).exit;
		expect(verify.code, verify.stdout + verify.stderr).toBe(0);
		expect(verify.stdout).toMatch(new RegExp(`✔ ${listed.entries.length} entries verified in s3://`));
	});
});

describe('the same with --store DIR (a shared directory)', () => {
	it('two variants, two coordinators each, two workers: one inversion, two edits, and `fatezero cache verify` passes on the directory', async () => {
		const dir = path.join(workspace, 'shared-dir');
		const dirLog = path.join(workspace, 'engine-dir.log');
		const dirWorkers = await Promise.all([10, 11].map((i) => startWorker(cli, workerArgs(i, dir), {FATEZERO_ENGINE_LOG: dirLog})));
		try {
			const files = ['dir-a', 'dir-b'].map((name) => clipFile(name, {prompt: `a ${name === 'dir-a' ? 'golden' : 'purple'} car driving down a road`}));
			const runs = [0, 1].flatMap((c) => files.map((file) => coordinate(file, `coord-dir-${c}`, dir)));
			const exits = await Promise.all(runs.map((r) => r.exit));
			for (const exit of exits) expect(exit.code, exit.stderr).toBe(0);
			const runsNow = engineRuns(dirLog);
			expect({invert: runsNow.filter((r) => r.kind === 'invert').length, edit: runsNow.filter((r) => r.kind === 'edit').length}).toEqual({invert: 1, edit: 2});
			const verify = await runCli(cli, ['cache', 'verify', '--cache-dir', dir]).exit;
			expect(verify.code, verify.stdout + verify.stderr).toBe(0);
			expect(verify.stdout).toMatch(/4 entries verified/);
		} finally {
			await stopWorkers(dirWorkers);
		}
	});
});

