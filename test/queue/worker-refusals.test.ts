import {mkdtempSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {Queue, QueueEvents} from 'bullmq';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {generateRandomModel} from '../../plugin/model-generator/generate-random-model.js';
import {startClipWorker, type ClipWorker} from '../../plugin/queue/clip-worker.js';
import {QueueCoordinator} from '../../plugin/queue/queue-coordinator.js';
import {CANCELLED_PREFIX, parseQueueUrl, QUEUE_NAME, redisOptions} from '../../plugin/queue/queue-protocol.js';
import {DirStore} from '../../plugin/store/dir-store.js';
import {testClip, writeFrames} from '../jobs/job-test-helpers.js';
import {freePort} from '../store/s3-test-server.js';
import {startRedis, type RedisTestServer} from './redis-test-server.js';

// What a worker refuses or abandons, in this process (one worker, a directory store): a job for
// another model (unrecoverable: no retries, the coordinator reports it), and a job its coordinator
// cancelled (the abort reaches the engine on the worker). Its lock lasts 0.5 s, so the last test
// shows the lock renewed while the engine runs.

const workspace = mkdtempSync(path.join(os.tmpdir(), 'fatezero-queue-refusals-'));
const store = new DirStore(path.join(workspace, 'store'));
let redis: RedisTestServer;
let worker: ClipWorker;
const lines: string[] = [];
// Long enough that a loaded 2-core CI machine cannot starve the renewal (every LOCK_MS / 2) past it:
// with 500 ms one job stalled once while another test file ran beside this one.
const LOCK_MS = 1500;

const coordinator = (model: {value: string; origin: string}) =>
	new QueueCoordinator({queue: parseQueueUrl(redis.url), store, cacheDir: path.join(workspace, 'coordinator'), projectRoot: workspace, model, publicDir: null, pollMs: 200});

beforeAll(async () => {
	redis = await startRedis();
	await writeFrames(path.join(workspace, 'frames'));
	worker = await startClipWorker({queue: parseQueueUrl(redis.url), store, cacheDir: path.join(workspace, 'worker'), model: {value: 'generated:tiny', origin: 'test'}, log: (line) => lines.push(line), lockDurationMs: LOCK_MS, stalledIntervalMs: LOCK_MS / 2});
});

afterAll(async () => {
	await worker?.close({force: true});
	await redis?.stop();
	rmSync(workspace, {recursive: true, force: true});
});

describe('worker refusals', () => {
	it('a job made for another model fails at once as unrecoverable, and the coordinator says why', async () => {
		const other = generateRandomModel({dir: path.join(workspace, 'other-model'), architecture: 'tiny', seed: 7}).dir;
		const submitting = coordinator({value: other, origin: '--model'});
		try {
			await expect(submitting.add(testClip({label: 'other-model'}))).rejects.toMatchObject({code: 'INFERENCE_FAILED', message: expect.stringMatching(/failed on a worker: This worker cannot run inv-[0-9a-f]+: the job asks for model/)});
		} finally {
			await submitting.close();
		}
		const queue = new Queue(QUEUE_NAME, {connection: redisOptions(parseQueueUrl(redis.url))});
		const [failed] = await queue.getFailed();
		expect(failed.attemptsMade).toBe(1);
		await queue.close();
	});

	it('cancelling a clip stops the job on the worker that runs it; nothing is published', async () => {
		const abort = new AbortController();
		const submitting = new QueueCoordinator({
			queue: parseQueueUrl(redis.url),
			store,
			cacheDir: path.join(workspace, 'coordinator'),
			projectRoot: workspace,
			model: {value: 'generated:tiny', origin: 'test'},
			publicDir: null,
			pollMs: 200,
			// once the worker reports inversion steps, cancel
			onProgress: (event) => (event.stage === 'invert' && event.step >= 1 ? abort.abort(new Error('test cancel')) : undefined),
		});
		try {
			const clip = testClip({label: 'cancelled', steps: 40});
			await expect(submitting.add(clip, {signal: abort.signal})).rejects.toMatchObject({code: 'ABORTED'});
		} finally {
			await submitting.close();
		}
		const queue = new Queue(QUEUE_NAME, {connection: redisOptions(parseQueueUrl(redis.url))});
		let reason = '';
		for (let i = 0; i < 100 && !reason.startsWith(CANCELLED_PREFIX); i++) {
			const jobs = await queue.getFailed();
			reason = jobs.find((j) => j.data.label === 'cancelled')?.failedReason ?? '';
			await new Promise((r) => setTimeout(r, 100));
		}
		await queue.close();
		expect(reason).toMatch(new RegExp(`^${CANCELLED_PREFIX}`));
		expect(lines.some((line) => /^inv-[0-9a-f]+: cancelled$/.test(line))).toBe(true);
		expect(await store.list()).toMatchObject([{kind: 'sources'}]);
	});

	it('a job longer than the lock duration keeps its lock while the engine runs: never stalled, computed once', async () => {
		const events = new QueueEvents(QUEUE_NAME, {connection: redisOptions(parseQueueUrl(redis.url))});
		await events.waitUntilReady();
		const stalled: string[] = [];
		events.on('stalled', ({jobId}) => stalled.push(jobId));
		const submitting = coordinator({value: 'generated:tiny', origin: 'test'});
		let runs = 0;
		try {
			// Sized by the machine, not assumed: more steps until both stages outlast the lock
			// (each run is a new clip, since steps are in its keys). The premise, not a speed claim.
			for (let steps = 12; ; steps *= 2) {
				runs++;
				const result = await submitting.add(testClip({label: 'long', steps}));
				const inversion = await store.head('inversions', result.inversionKey);
				if (inversion!.timingsMs.invert > 1.5 * LOCK_MS && result.manifest.timingsMs.edit > 1.5 * LOCK_MS) break;
				if (steps >= 768) throw new Error(`even ${steps} steps ran in under ${1.5 * LOCK_MS} ms per stage: lower LOCK_MS`);
			}
		} finally {
			await submitting.close();
			await events.close();
		}
		expect(stalled).toEqual([]);
		expect(lines.filter((line) => /: (invert|edit) of long$/.test(line))).toHaveLength(2 * runs);
	});

	it('Redis unreachable: a worker fails to start and a coordinator fails, both with QUEUE_UNAVAILABLE naming the address', async () => {
		const port = await freePort();
		const nowhere = {host: '127.0.0.1', port, db: 0};
		await expect(startClipWorker({queue: nowhere, store, cacheDir: path.join(workspace, 'worker'), model: {value: 'generated:tiny', origin: 'test'}, unreachableTimeoutMs: 1000})).rejects.toMatchObject({
			code: 'QUEUE_UNAVAILABLE',
			message: expect.stringContaining(`127.0.0.1:${port}`),
		});
		const submitting = new QueueCoordinator({queue: nowhere, store, cacheDir: path.join(workspace, 'coordinator'), projectRoot: workspace, model: {value: 'generated:tiny', origin: 'test'}, publicDir: null, unreachableTimeoutMs: 1000});
		try {
			await expect(submitting.add(testClip({label: 'no-redis', prompt: 'a tiny car on a road'}))).rejects.toMatchObject({code: 'QUEUE_UNAVAILABLE', message: expect.stringMatching(/did not answer for 1 s .*not computed again when you rerun/)});
		} finally {
			await submitting.close();
		}
	});
});

