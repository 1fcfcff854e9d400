import {copyFileSync, mkdirSync, symlinkSync} from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {descriptorKey} from '../../plugin/clip/descriptor-key.js';
import {fateZeroClip} from '../../plugin/clip/fatezero-clip.js';
import type {OnJobProgress} from '../../plugin/jobs/job-progress.js';
import type {ClipJobResult} from '../../plugin/jobs/run-clip-job.js';
import {startJobServer, type JobServer} from '../../plugin/studio/job-server.js';
import {sourcePreviewFile} from '../../plugin/studio/source-preview.js';
import type {StudioJobState} from '../../plugin/clip/studio-job-state.js';
import {studioOrigins} from '../../plugin/studio/origin-policy.js';
import {tempWorkspace, waitFor, writeFrames} from './studio-test-helpers.js';

// The job server's HTTP contract, with a scripted queue in place of the engine: who may call it,
// which descriptors it refuses (and with what), deduplication, progress, preview and events.

type ScriptedJob = {descriptor: Record<string, unknown>; id: string; signal?: AbortSignal; resolve: (result: ClipJobResult) => void; reject: (error: unknown) => void};

const workspace = tempWorkspace('studio-server');
const projectRoot = path.join(workspace, 'project');
const cacheDir = path.join(workspace, 'cache');
const outside = path.join(workspace, 'outside');
const modelDir = path.join(projectRoot, 'models', 'sd');
const STUDIO = 'http://localhost:3123';
const clip = {source: 'frames', sourcePrompt: 'a silver jeep', prompt: 'a red jeep', size: 64, frames: {count: 2}, steps: 3};

let server: JobServer;
let progress: OnJobProgress;
const jobs: ScriptedJob[] = [];

const post = (body: unknown, origin: string | null = STUDIO) =>
	fetch(`${server.url}/jobs`, {method: 'POST', headers: {'Content-Type': 'application/json', ...(origin ? {Origin: origin} : {})}, body: typeof body === 'string' ? body : JSON.stringify(body)});

const errorOf = async (response: Response): Promise<string> => ((await response.json()) as {error: string}).error;

/** A request with headers fetch() will not set (Host). */
const rawRequest = (options: {method: string; path: string; headers: Record<string, string>}): Promise<{status: number; body: string}> =>
	new Promise((resolve, reject) => {
		const request = http.request({host: '127.0.0.1', port: server.port, ...options}, (response) => {
			let body = '';
			response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
			response.on('end', () => resolve({status: response.statusCode ?? 0, body}));
		});
		request.on('error', reject);
		request.end();
	});

beforeAll(async () => {
	await writeFrames(path.join(projectRoot, 'frames'), {count: 2, size: 64});
	await writeFrames(outside, {count: 2, size: 64});
	mkdirSync(modelDir, {recursive: true});
	// a link inside the project to footage outside it
	symlinkSync(outside, path.join(projectRoot, 'linked-outside'));
	server = await startJobServer({
		port: 0,
		cacheDir,
		projectRoot,
		allowedOrigins: studioOrigins(3123),
		allowedModels: [modelDir],
		createQueue: (onProgress) => {
			progress = onProgress;
			return {
				add: (descriptor, options) =>
					new Promise<ClipJobResult>((resolve, reject) => {
						jobs.push({descriptor: descriptor as Record<string, unknown>, id: options.id ?? '', signal: options.signal, resolve, reject});
						options.signal?.addEventListener('abort', () => reject(options.signal?.reason));
					}),
				close: async () => undefined,
			};
		},
	});
});

afterAll(async () => {
	await server?.close();
});

describe('job server: who may call it', () => {
	it('answers 403 to a POST from another Origin, and queues nothing', async () => {
		const response = await post(clip, 'http://evil.example');
		expect(response.status).toBe(403);
		expect(response.headers.get('access-control-allow-origin')).toBeNull();
		const error = await errorOf(response);
		expect(error).toContain('Origin "http://evil.example" is not allowed');
		expect(error).toContain('http://localhost:3123');
		expect(error).toContain('--allow-origin');
		expect(jobs).toHaveLength(0);
	});

	it('answers CORS preflights for the Studio origins only', async () => {
		for (const origin of studioOrigins(3123)) {
			const ok = await fetch(`${server.url}/jobs`, {method: 'OPTIONS', headers: {Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type'}});
			expect(ok.status).toBe(204);
			expect(ok.headers.get('access-control-allow-origin')).toBe(origin);
			expect(ok.headers.get('access-control-allow-headers')).toMatch(/content-type/i);
		}
		const refused = await fetch(`${server.url}/jobs`, {method: 'OPTIONS', headers: {Origin: 'http://localhost:9999', 'Access-Control-Request-Method': 'POST'}});
		expect(refused.status).toBe(403);
		expect(refused.headers.get('access-control-allow-origin')).toBeNull();
	});

	it('answers 403 to a Host other than loopback (DNS rebinding), even without Origin', async () => {
		const response = await rawRequest({method: 'GET', path: '/jobs', headers: {Host: `evil.example:${server.port}`}});
		expect(response.status).toBe(403);
		expect(JSON.parse(response.body).error).toContain('Host "evil.example');
		expect((await rawRequest({method: 'GET', path: '/jobs', headers: {Host: `localhost:${server.port}`}})).status).toBe(200);
	});

	it('takes new origins when Studio moves (setAllowedOrigins)', async () => {
		server.setAllowedOrigins(studioOrigins(3124));
		expect((await fetch(`${server.url}/jobs`, {headers: {Origin: 'http://localhost:3124'}})).status).toBe(200);
		expect((await fetch(`${server.url}/jobs`, {headers: {Origin: STUDIO}})).status).toBe(403);
		server.setAllowedOrigins(studioOrigins(3123));
	});
});

describe('job server: which descriptors it refuses', () => {
	it('refuses a source outside the project root with 403 and says what to do', async () => {
		for (const source of ['../../etc/passwd', '/etc/passwd', '../outside']) {
			const response = await post({...clip, source});
			expect(response.status, source).toBe(403);
			const error = await errorOf(response);
			expect(error).toContain(`source ${JSON.stringify(source)}`);
			expect(error).toContain(`outside the project root ${projectRoot}`);
			expect(error).toContain('copy it there');
		}
		expect(jobs).toHaveLength(0);
	});

	it('refuses a source that links out of the project (real paths are compared)', async () => {
		const response = await post({...clip, source: 'linked-outside'});
		expect(response.status).toBe(403);
		expect(await errorOf(response)).toContain(`is a link to ${outside}`);
	});

	it('answers 400 with the schema message to an invalid descriptor', async () => {
		const response = await post({...clip, steps: 'many', frame: {}});
		expect(response.status).toBe(400);
		const error = await errorOf(response);
		expect(error).toContain('Invalid clip descriptor in the POST /jobs body');
		expect(error).toContain('"frame" (did you mean "frames"?)');
		const missing = await post({source: 'frames'});
		expect(missing.status).toBe(400);
		expect(await errorOf(missing)).toMatch(/sourcePrompt/);
	});

	it('answers 400 to a body that is not JSON, and to a source that does not exist', async () => {
		const notJson = await post('{source: frames');
		expect(notJson.status).toBe(400);
		expect(await errorOf(notJson)).toContain('not valid JSON');
		const absent = await post({...clip, source: 'footage/none.mp4'});
		expect(absent.status).toBe(400);
		expect(await errorOf(absent)).toContain(`does not exist (looked for ${path.join(projectRoot, 'footage/none.mp4')})`);
	});

	it('refuses a model folder that is not the configured one', async () => {
		const response = await post({...clip, model: '../outside'});
		expect(response.status).toBe(403);
		const error = await errorOf(response);
		expect(error).toContain('model "../outside" is not the model this job server was started with');
		expect(error).toContain(modelDir);
		expect(jobs).toHaveLength(0);
	});

	it('answers 404 to unknown routes and keys, 405 to other methods', async () => {
		expect((await fetch(`${server.url}/nothing`)).status).toBe(404);
		expect((await fetch(`${server.url}/jobs/${'0'.repeat(64)}`)).status).toBe(404);
		expect((await fetch(`${server.url}/jobs/..%2F..%2Fetc`)).status).toBe(404);
		expect((await fetch(`${server.url}/jobs`, {method: 'DELETE'})).status).toBe(405);
	});
});

describe('job server: jobs', () => {
	it('queues a descriptor once, follows its progress and preview, and reports it done', async () => {
		const key = descriptorKey(fateZeroClip(clip));
		const events: StudioJobState[] = [];
		const stream = await fetch(`${server.url}/events`, {headers: {Origin: STUDIO}});
		expect(stream.headers.get('content-type')).toBe('text/event-stream');
		expect(stream.headers.get('access-control-allow-origin')).toBe(STUDIO);
		const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
		void (async () => {
			let buffer = '';
			for (;;) {
				const {value, done} = await reader.read().catch(() => ({value: undefined, done: true}));
				if (done) return;
				buffer += value;
				const blocks = buffer.split('\n\n');
				buffer = blocks.pop()!;
				for (const block of blocks) {
					const data = block.split('\n').find((line) => line.startsWith('data: '));
					if (data) events.push(JSON.parse(data.slice(6)) as StudioJobState);
				}
			}
		})();

		const first = await post({...clip, label: 'jeep'});
		expect(first.status).toBe(202);
		expect(first.headers.get('access-control-allow-origin')).toBe(STUDIO);
		expect(await first.json()).toMatchObject({descriptorKey: key, status: 'queued', stage: 'queued', label: 'jeep'});
		// the same clip again (label changes no key; a request without Origin is the CLI's): joined
		const second = await post(clip, null);
		expect(second.status).toBe(202);
		expect(jobs).toHaveLength(1);
		expect(jobs[0].id).toBe(key);
		expect(jobs[0].descriptor.label).toBeUndefined(); // progress names the job by its key prefix

		progress({job: key.slice(0, 12), stage: 'import', step: 0, total: 1, etaSeconds: null});
		// the import publishes the source entry; its frame 0 is the preview
		const previewFile = await sourcePreviewFile(fateZeroClip(clip), path.join(projectRoot, 'frames'), cacheDir);
		mkdirSync(path.dirname(previewFile), {recursive: true});
		copyFileSync(path.join(projectRoot, 'frames', '00000.png'), previewFile);
		progress({job: key.slice(0, 12), stage: 'invert', step: 2, total: 3, etaSeconds: 1.5});
		const running = (await (await fetch(`${server.url}/jobs/${key}`, {headers: {Origin: STUDIO}})).json()) as StudioJobState;
		expect(running).toMatchObject({status: 'running', stage: 'invert', step: 2, total: 3, etaSeconds: 1.5, previewUrl: `${server.url}/jobs/${key}/preview.png`});
		const preview = await fetch(running.previewUrl!);
		expect(preview.status).toBe(200);
		expect(preview.headers.get('content-type')).toBe('image/png');
		expect(Buffer.from(await preview.arrayBuffer()).subarray(1, 4).toString()).toBe('PNG');

		jobs[0].resolve({key: 'e'.repeat(64)} as ClipJobResult);
		const done = await waitFor('the job to be done', async () => {
			const state = (await (await fetch(`${server.url}/jobs/${key}`)).json()) as StudioJobState;
			return state.status === 'done' ? state : undefined;
		}, 30_000, 20);
		expect(done).toMatchObject({stage: 'done', editKey: 'e'.repeat(64)});
		expect(((await (await fetch(`${server.url}/jobs`)).json()) as StudioJobState[]).map((s) => s.descriptorKey)).toContain(key);
		await waitFor('the events', () => (events.some((e) => e.status === 'done') ? true : undefined), 30_000, 20);
		expect(events.map((e) => `${e.status}/${e.stage}`)).toEqual(['queued/queued', 'running/import', 'running/invert', 'done/done']);
		await reader.cancel();

		// asking again for a finished clip runs it again (a cache hit when its entry is still there)
		expect((await post(clip)).status).toBe(202);
		expect(jobs).toHaveLength(2);
		jobs[1].reject(new Error('frames.count: the source has only 2 frames'));
		const failed = await waitFor('the job to fail', async () => {
			const state = (await (await fetch(`${server.url}/jobs/${key}`)).json()) as StudioJobState;
			return state.status === 'failed' ? state : undefined;
		}, 30_000, 20);
		expect(failed.error).toBe('frames.count: the source has only 2 frames');
	});

	it('accepts the configured model and cancels running jobs when it closes', async () => {
		const other = await startJobServer({
			port: 0,
			cacheDir,
			projectRoot,
			allowedOrigins: [STUDIO],
			allowedModels: [modelDir],
			createQueue: () => ({
				add: (descriptor, options) =>
					new Promise<ClipJobResult>((_resolve, reject) => {
						jobs.push({descriptor: descriptor as Record<string, unknown>, id: options.id ?? '', signal: options.signal, resolve: () => undefined, reject});
						options.signal?.addEventListener('abort', () => reject(options.signal?.reason));
					}),
				close: async () => undefined,
			}),
		});
		const response = await fetch(`${other.url}/jobs`, {method: 'POST', headers: {Origin: STUDIO}, body: JSON.stringify({...clip, model: 'models/sd'})});
		expect(response.status).toBe(202);
		const job = jobs[jobs.length - 1];
		await other.close();
		expect(job.signal?.aborted).toBe(true);
		expect(other.jobs.list()[0]).toMatchObject({status: 'failed'});
		expect(other.jobs.list()[0].error).toContain('stopped before the job finished');
		await expect(fetch(`${other.url}/jobs`)).rejects.toThrow();
	});

	it('says which option to change when its port is taken', async () => {
		await expect(startJobServer({port: server.port, cacheDir, projectRoot, allowedOrigins: []})).rejects.toThrow(/port is in use\. Pick another with --job-server-port/);
	});
});
