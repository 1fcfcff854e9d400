import http from 'node:http';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {descriptorKey} from '../../plugin/clip/descriptor-key.js';
import {fateZeroClip} from '../../plugin/clip/fatezero-clip.js';
import type {OnJobProgress} from '../../plugin/jobs/job-progress.js';
import type {ClipJobResult} from '../../plugin/jobs/run-clip-job.js';
import {startJobServer, type JobServer} from '../../plugin/studio/job-server.js';
import {MAX_LABEL_CHARS, type StudioJobState} from '../../plugin/clip/studio-job-state.js';
import type {StudioPreviewEvent} from '../../plugin/studio/studio-jobs.js';
import {studioOrigins} from '../../plugin/studio/origin-policy.js';
import {lastJob, scriptedQueue, tempWorkspace, waitFor, writeFrames, type ScriptedJob} from './studio-test-helpers.js';

// The job server's limits and cancellation (issue 16 item 7, issue 13 item 1), with a scripted
// queue in place of the engine: a 413 the client receives, a 429 past the queue cap, bounded
// labels in events, finished jobs pruned, DELETE /jobs/<key> (origin-checked) and retry.

const workspace = tempWorkspace('studio-limits');
const projectRoot = path.join(workspace, 'project');
const cacheDir = path.join(workspace, 'cache');
const STUDIO = 'http://localhost:3123';
const clip = (prompt: string, extra: Record<string, unknown> = {}) => ({source: 'frames', sourcePrompt: 'a silver jeep', prompt, size: 64, frames: {count: 2}, steps: 3, ...extra});
const keyOf = (prompt: string) => descriptorKey(fateZeroClip(clip(prompt)));

let server: JobServer;
let progress: OnJobProgress;
let preview: (event: StudioPreviewEvent) => void;
const jobs: ScriptedJob[] = [];

const post = (body: unknown, origin: string | null = STUDIO) =>
	fetch(`${server.url}/jobs`, {method: 'POST', headers: {'Content-Type': 'application/json', ...(origin ? {Origin: origin} : {})}, body: typeof body === 'string' ? body : JSON.stringify(body)});
const remove = (key: string, origin: string | null = STUDIO, query = '') => fetch(`${server.url}/jobs/${key}${query}`, {method: 'DELETE', headers: origin ? {Origin: origin} : {}});
const state = async (key: string) => (await (await fetch(`${server.url}/jobs/${key}`)).json()) as StudioJobState;
const errorOf = async (response: Response): Promise<string> => ((await response.json()) as {error: string}).error;
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

beforeAll(async () => {
	await writeFrames(path.join(projectRoot, 'frames'), {count: 2, size: 64});
	server = await startJobServer({
		port: 0,
		cacheDir,
		projectRoot,
		allowedOrigins: studioOrigins(3123),
		maxQueuedJobs: 3,
		maxFinishedJobs: 2,
		createQueue: scriptedQueue(jobs, {onProgress: (callback) => (progress = callback), onPreview: (callback) => (preview = callback)}),
	});
});

afterAll(async () => {
	await server?.close();
});

const job = (key: string) => lastJob(jobs, key);

describe('job server limits', () => {
	it('answers 413 to a 50 MB body, and the client receives it', async () => {
		const body = JSON.stringify({...clip('big'), label: 'x'.repeat(50 << 20)});
		const response = await post(body);
		expect(response.status).toBe(413);
		expect(await errorOf(response)).toMatch(/larger than the limit of 1048576 bytes/);
		// the connection stays usable for the next request
		expect((await fetch(`${server.url}/jobs`)).status).toBe(200);
	});

	it('answers 413 at once, closing the connection, to a body declared far over the limit', async () => {
		const status = await new Promise<number>((resolve, reject) => {
			const request = http.request({host: '127.0.0.1', port: server.port, method: 'POST', path: '/jobs', headers: {'Content-Type': 'application/json', 'Content-Length': String(1 << 30)}}, (response) => {
				response.resume();
				resolve(response.statusCode ?? 0);
			});
			request.on('error', reject);
			request.write('{');
		});
		expect(status).toBe(413);
	});

	it('caps the queued jobs with a clear 429, and accepts again once one is cancelled', async () => {
		for (const prompt of ['q1', 'q2', 'q3']) expect((await post(clip(prompt))).status).toBe(202);
		const refused = await post(clip('q4'));
		expect(refused.status).toBe(429);
		expect(await errorOf(refused)).toMatch(/3 jobs are already waiting \(the limit is 3\)\. Cancel some/);
		// asking again for a queued one joins it: no 429
		expect((await post(clip('q2'))).status).toBe(202);
		expect((await remove(keyOf('q1'))).status).toBe(200);
		expect((await post(clip('q4'))).status).toBe(202);
		for (const prompt of ['q2', 'q3', 'q4']) await remove(keyOf(prompt));
	});

	it('cuts long labels in states and events', async () => {
		const response = await post({...clip('long label'), label: 'L'.repeat(1000)});
		const accepted = (await response.json()) as StudioJobState;
		expect(accepted.label.length).toBeLessThanOrEqual(MAX_LABEL_CHARS);
		const all = JSON.stringify(await (await fetch(`${server.url}/jobs`)).json());
		expect(all.length).toBeLessThan(10_000);
		await remove(keyOf('long label'));
	});

	it('keeps only the latest finished jobs (maxFinishedJobs)', async () => {
		const list = (await (await fetch(`${server.url}/jobs`)).json()) as StudioJobState[];
		expect(list.filter((s) => s.status === 'cancelled').length).toBeLessThanOrEqual(2);
		expect(list.some((s) => s.descriptorKey === keyOf('q1'))).toBe(false);
	});
});

describe('cancel and retry', () => {
	it('cancels a queued job: DELETE answers its state, cancelled, and the queue is told', async () => {
		await post(clip('queued'));
		const key = keyOf('queued');
		const response = await remove(key);
		expect(response.status).toBe(200);
		expect(await response.json()).toMatchObject({descriptorKey: key, status: 'cancelled', cancelledBy: 'user'});
		await settle();
		expect(job(key).signal?.aborted).toBe(true);
		expect((await state(key)).status).toBe('cancelled');
	});

	it('cancels a running job, as unused when the page says so', async () => {
		await post(clip('running'));
		const key = keyOf('running');
		await settle();
		progress({job: key.slice(0, 12), stage: 'edit', step: 1, total: 3, etaSeconds: 2});
		expect((await state(key)).status).toBe('running');
		expect(await (await remove(key, STUDIO, '?reason=unused')).json()).toMatchObject({status: 'cancelled', cancelledBy: 'unused'});
		await settle();
		expect(job(key).signal?.aborted).toBe(true);
		// a late progress event of the stopping engine does not bring it back
		progress({job: key.slice(0, 12), stage: 'edit', step: 2, total: 3, etaSeconds: 1});
		expect((await state(key)).status).toBe('cancelled');
	});

	it('checks DELETE like every route: another Origin gets 403 and cancels nothing; unknown keys 404', async () => {
		await post(clip('protected'));
		const key = keyOf('protected');
		const refused = await remove(key, 'http://evil.example');
		expect(refused.status).toBe(403);
		expect((await state(key)).status).toBe('queued');
		expect((await remove('0'.repeat(64))).status).toBe(404);
		expect((await remove('..%2Fetc')).status).toBe(404);
		const preflight = await fetch(`${server.url}/jobs/${key}`, {method: 'OPTIONS', headers: {Origin: STUDIO, 'Access-Control-Request-Method': 'DELETE'}});
		expect(preflight.headers.get('access-control-allow-methods')).toContain('DELETE');
		await remove(key);
	});

	it('runs a failed or cancelled job again when asked again (Retry)', async () => {
		await post(clip('flaky'));
		const key = keyOf('flaky');
		await settle();
		job(key).reject(new Error('source "frames" does not exist'));
		await waitFor('the failure', async () => ((await state(key)).status === 'failed' ? true : undefined), 30_000, 20);
		expect((await state(key)).error).toContain('does not exist');
		expect((await post(clip('flaky'))).status).toBe(202);
		await settle();
		job(key).resolve({key: 'f'.repeat(64)} as ClipJobResult);
		const done = await waitFor('the retry', async () => {
			const now = await state(key);
			return now.status === 'done' ? now : undefined;
		}, 30_000, 20);
		expect(done).toMatchObject({editKey: 'f'.repeat(64)});
		expect(done.error).toBeUndefined();
	});

	it('serves the engine preview from memory and versions it', async () => {
		await post(clip('previewed'));
		const key = keyOf('previewed');
		await settle();
		const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
		preview({job: key.slice(0, 12), stage: 'edit', step: 2, total: 3, png, costMs: 1});
		const now = await state(key);
		expect(now).toMatchObject({previewUrl: `${server.url}/jobs/${key}/preview.png`, previewStage: 'edit'});
		const first = now.previewVersion!;
		preview({job: key.slice(0, 12), stage: 'edit', step: 3, total: 3, png, costMs: 1});
		expect((await state(key)).previewVersion).toBe(first + 1);
		const served = await fetch(now.previewUrl!);
		expect(new Uint8Array(await served.arrayBuffer())).toEqual(png);
		await remove(key);
	});
});
