import path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {descriptorKey} from '../../plugin/clip/descriptor-key.js';
import {fateZeroClip} from '../../plugin/clip/fatezero-clip.js';
import type {OnJobProgress} from '../../plugin/jobs/job-progress.js';
import type {ClipJobResult} from '../../plugin/jobs/run-clip-job.js';
import {startJobServer, type JobServer} from '../../plugin/studio/job-server.js';
import type {StudioJobState} from '../../plugin/clip/studio-job-state.js';
import {studioOrigins} from '../../plugin/studio/origin-policy.js';
import {lastJob, scriptedQueue, tempWorkspace, waitFor, writeFrames, type ScriptedJob} from './studio-test-helpers.js';

// Jobs of pages that are gone (issue 13): a Studio page names itself with ?client=<id> on its job
// requests and its event stream. When every client that asked for an unfinished job has been
// without an open stream for the grace period (its tab was closed, nothing sent DELETE), the
// server cancels the job itself; a page that comes back in time (a reload) keeps it, and a job
// asked for without a client id (the CLI) is never cancelled that way. A scripted queue stands in
// for the engine; the grace is short here.

const GRACE_MS = 500;
/** Long enough past the grace that a cancellation that was due has happened. */
const PAST_GRACE_MS = GRACE_MS * 3;

const workspace = tempWorkspace('studio-clients');
const projectRoot = path.join(workspace, 'project');
const cacheDir = path.join(workspace, 'cache');
const STUDIO = 'http://localhost:3123';
const clip = (prompt: string) => ({source: 'frames', sourcePrompt: 'a silver jeep', prompt, size: 64, frames: {count: 2}, steps: 3});
const keyOf = (prompt: string) => descriptorKey(fateZeroClip(clip(prompt)));

let server: JobServer;
let progress: OnJobProgress;
const jobs: ScriptedJob[] = [];
const openStreams = new Set<() => void>();

const post = (prompt: string, client: string | null, origin: string | null = STUDIO) =>
	fetch(`${server.url}/jobs${client === null ? '' : `?client=${client}`}`, {method: 'POST', headers: {'Content-Type': 'application/json', ...(origin ? {Origin: origin} : {})}, body: JSON.stringify(clip(prompt))});
const state = async (key: string) => (await (await fetch(`${server.url}/jobs/${key}`)).json()) as StudioJobState;
const job = (key: string) => lastJob(jobs, key);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const errorOf = async (response: Response): Promise<string> => ((await response.json()) as {error: string}).error;

/** A page's event stream (GET /events?client=<id>); close() drops the connection, as a closed tab does. */
const connect = async (client: string) => {
	const abort = new AbortController();
	const response = await fetch(`${server.url}/events?client=${client}`, {headers: {Origin: STUDIO}, signal: abort.signal});
	expect(response.status).toBe(200);
	const reader = response.body!.getReader();
	void (async () => {
		for (;;) if ((await reader.read().catch(() => ({done: true}))).done) return;
	})();
	const close = () => {
		openStreams.delete(close);
		abort.abort();
	};
	openStreams.add(close);
	return {close};
};

/** Marks the scripted job of `key` running (a progress event of the engine). */
const run = async (key: string) => {
	await waitFor('the queue to take the job', () => (jobs.some((j) => j.id === key) ? true : undefined), 10_000, 10);
	progress({job: key.slice(0, 12), stage: 'edit', step: 1, total: 3, etaSeconds: 2});
	expect((await state(key)).status).toBe('running');
};

const cancelledState = (key: string) =>
	waitFor(`the job ${key.slice(0, 12)} to be cancelled`, async () => {
		const now = await state(key);
		return now.status === 'cancelled' ? now : undefined;
	}, 10_000, 20);

beforeAll(async () => {
	await writeFrames(path.join(projectRoot, 'frames'), {count: 2, size: 64});
	server = await startJobServer({
		port: 0,
		cacheDir,
		projectRoot,
		allowedOrigins: studioOrigins(3123),
		clientGraceMs: GRACE_MS,
		createQueue: scriptedQueue(jobs, {onProgress: (callback) => (progress = callback)}),
	});
});

afterAll(async () => {
	for (const close of [...openStreams]) close();
	await server?.close();
});

describe('job server: jobs of pages that are gone', () => {
	it('cancels a running job, as unused, once the page that asked for it closed its stream and the grace passed', async () => {
		const page = await connect('page-a');
		expect((await post('closed tab', 'page-a')).status).toBe(202);
		const key = keyOf('closed tab');
		await run(key);
		// the page is there: nothing happens however long it stays
		await sleep(PAST_GRACE_MS);
		expect((await state(key)).status).toBe('running');
		page.close();
		const cancelled = await cancelledState(key);
		expect(cancelled.cancelledBy).toBe('unused');
		expect(job(key).signal?.aborted).toBe(true);
		// asking again runs it again
		expect((await post('closed tab', null)).status).toBe(202);
		expect((await state(key)).status).toBe('queued');
		await waitFor('the new run', () => (jobs.filter((j) => j.id === key).length === 2 ? true : undefined), 10_000, 10);
		job(key).resolve({key: 'a'.repeat(64)} as ClipJobResult);
	});

	it('cancels a queued job of a page that never opened its stream', async () => {
		expect((await post('no stream', 'page-b')).status).toBe(202);
		const key = keyOf('no stream');
		expect((await cancelledState(key)).cancelledBy).toBe('unused');
	});

	it('keeps the job when the page reconnects within the grace period', async () => {
		const first = await connect('page-c');
		await post('reconnected', 'page-c');
		const key = keyOf('reconnected');
		await run(key);
		first.close();
		const second = await connect('page-c');
		await sleep(PAST_GRACE_MS);
		expect((await state(key)).status).toBe('running');
		second.close();
		await cancelledState(key);
	});

	it('keeps the job when a reloaded page (a new client) asks for it again within the grace period', async () => {
		const before = await connect('page-d');
		await post('reloaded', 'page-d');
		const key = keyOf('reloaded');
		await run(key);
		before.close();
		const after = await connect('page-e');
		expect(await (await post('reloaded', 'page-e')).json()).toMatchObject({descriptorKey: key, status: 'running'});
		await sleep(PAST_GRACE_MS);
		expect((await state(key)).status).toBe('running');
		expect(job(key).signal?.aborted).toBe(false);
		// one page of two closing keeps it too; the last one closing does not
		const other = await connect('page-f');
		await post('reloaded', 'page-f');
		other.close();
		await sleep(PAST_GRACE_MS);
		expect((await state(key)).status).toBe('running');
		after.close();
		await cancelledState(key);
	});

	it('never cancels a job asked for without a client id (the CLI), even when a page that asked too is gone', async () => {
		expect((await post('from the cli', null, null)).status).toBe(202);
		const cliKey = keyOf('from the cli');
		const page = await connect('page-g');
		await post('shared', 'page-g');
		await post('shared', null, null);
		const sharedKey = keyOf('shared');
		await run(sharedKey);
		page.close();
		await sleep(PAST_GRACE_MS);
		expect((await state(cliKey)).status).toBe('queued');
		expect((await state(sharedKey)).status).toBe('running');
		for (const key of [cliKey, sharedKey]) expect((await fetch(`${server.url}/jobs/${key}`, {method: 'DELETE'})).status).toBe(200);
	});

	it('forgets who asked once a job is finished: a new run is a new request', async () => {
		await post('finished', null);
		const key = keyOf('finished');
		await run(key);
		job(key).resolve({key: 'b'.repeat(64)} as ClipJobResult);
		await waitFor('the job to be done', async () => ((await state(key)).status === 'done' ? true : undefined), 10_000, 20);
		// the CLI's earlier request does not pin the new run of a page that is gone
		await post('finished', 'page-h');
		expect((await cancelledState(key)).cancelledBy).toBe('unused');
	});

	it('answers 400 to a client id that is not one, and queues nothing; other Origins still get 403', async () => {
		const count = jobs.length;
		for (const client of ['', 'a b', 'x'.repeat(65), '..%2F']) {
			const response = await post('bad client', client);
			expect(response.status, client).toBe(400);
			expect(await errorOf(response)).toContain('is not a client id');
			expect((await fetch(`${server.url}/events?client=${client}`, {headers: {Origin: STUDIO}})).status, client).toBe(400);
		}
		expect((await post('bad client', 'page-i', 'http://evil.example')).status).toBe(403);
		expect((await fetch(`${server.url}/events?client=page-i`, {headers: {Origin: 'http://evil.example'}})).status).toBe(403);
		expect(jobs.length).toBe(count);
	});
});
