import {existsSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {Queue} from 'bullmq';
import {Redis} from 'ioredis';
import {afterAll, afterEach, beforeAll, describe, expect, it, vi} from 'vitest';
import {renderCommand} from '../../plugin/cli/render-command.js';
import {publicClipPath} from '../../plugin/clip/public-layout.js';
import {isFateZeroError} from '../../plugin/errors/fatezero-error.js';
import {renderVariants, type VariantProgress, type VariantResult} from '../../plugin/node/render-variants.js';
import {QueueCoordinator} from '../../plugin/queue/queue-coordinator.js';
import {parseQueueUrl, QUEUE_NAME, redisOptions} from '../../plugin/queue/queue-protocol.js';
import {openStore} from '../../plugin/store/open-store.js';
import type {SharedStore} from '../../plugin/store/shared-store.js';
import {engineRuns} from '../jobs/job-test-helpers.js';
import {BROWSER, bundleDemo, decodeVideoFrame, demoProject, ENTRY, meanAbsDiff, tempProject, testSettings, tinyClip, writeFrames} from '../remotion/remotion-test-helpers.js';
import {startS3Server, type S3TestServer} from '../store/s3-test-server.js';
import {bundleQueueCli, startWorker, stopWorkers, type WorkerProcess} from './queue-test-helpers.js';
import {startRedis, type RedisTestServer} from './redis-test-server.js';

// `fatezero render --variants FILE --out-dir DIR --queue … --store s3://…`: the variants' clip jobs
// go to two `fatezero worker` processes through a real Redis and a local S3 server; this process
// (the coordinator) imports the source, renders every variant and runs no engine job itself.

const root = tempProject('queue-variants');
const frames = path.join(root, 'frames');
const cacheDir = path.join(root, 'cache');
const publicDir = path.join(root, 'public');
// the workers' engine runs, and this process's if it ran any (it must not)
const engineLog = path.join(root, 'engine.log');
let redis: RedisTestServer;
let s3: S3TestServer;
let storeUrl: string;
let store: SharedStore;
const workers: WorkerProcess[] = [];

const variant = (name: string, prompt: string, extra: Record<string, unknown> = {}) => ({name, props: {clip: tinyClip(frames, prompt), ...extra}});
const VARIANTS = [variant('red', 'a red car on a road'), variant('snowy', 'a jeep on a snowy road'), variant('night', 'a jeep on a road at night')];

/** Connections Redis has open now (the workers' and this process's). */
const redisClients = async (): Promise<number> => {
	const client = new Redis(redisOptions(parseQueueUrl(redis.url)));
	try {
		return String(await client.client('LIST'))
			.split('\n')
			.filter(Boolean).length - 1; // minus this one
	} finally {
		client.disconnect();
	}
};

afterEach(() => {
	vi.restoreAllMocks();
	vi.unstubAllEnvs();
});

beforeAll(async () => {
	let cli: string;
	[redis, s3, cli] = await Promise.all([startRedis(), startS3Server(), bundleQueueCli(path.join(root, 'bin')), writeFrames(frames)]);
	storeUrl = s3.storeUrl('variants');
	store = openStore(storeUrl);
	workers.push(...(await Promise.all([0, 1].map((i) => startWorker(cli, ['--queue', redis.url, '--store', storeUrl, '--cache-dir', path.join(root, `worker-${i}`)], {FATEZERO_ENGINE_LOG: engineLog})))));
}, 120_000);

afterAll(async () => {
	await stopWorkers(workers);
	await store?.close();
	await redis?.stop();
	await s3?.close();
});

describe('fatezero render --variants --queue --store', () => {
	it('--queue without --store (or the reverse) is the usual usage error, before any work', async () => {
		const file = path.join(root, 'args.json');
		writeFileSync(file, JSON.stringify(VARIANTS));
		const common = [ENTRY, 'ClipInSequence', '--variants', file, '--out-dir', path.join(root, 'args-out'), '--cache-dir', cacheDir, '--public-dir', publicDir, '--model', 'generated:tiny'];
		vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
		for (const [flags, only] of [
			[['--queue', redis.url], `--queue ${redis.url}`],
			[['--store', storeUrl], `--store ${storeUrl}`],
		] as const) {
			const error = await renderCommand([...common, ...flags]).then(
				() => null,
				(e: unknown) => e,
			);
			expect(isFateZeroError(error, 'INVALID_OPTION'), String(error)).toBe(true);
			expect((error as Error).message).toContain(`--queue and --store go together: the workers read and write the store the queue's jobs name. Got only ${only}.`);
		}
		expect(existsSync(path.join(root, 'args-out', 'manifest.json'))).toBe(false);
	});

	it('three variants of one source: one inversion and three edits on the workers, every variant rendered here, the coordinator closed', async () => {
		vi.stubEnv('FATEZERO_ENGINE_LOG', engineLog);
		const file = path.join(root, 'variants.json');
		writeFileSync(file, JSON.stringify(VARIANTS));
		const outDir = path.join(root, 'out');
		const clientsBefore = await redisClients();
		const lines: string[] = [];
		const stderr: string[] = [];
		vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void lines.push(parts.join(' ')));
		vi.spyOn(console, 'error').mockImplementation((...parts: unknown[]) => void stderr.push(parts.join(' ')));
		vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (stderr.push(String(chunk)), true));
		const code = await renderCommand([ENTRY, 'ClipInSequence', '--variants', file, '--out-dir', outDir, '--queue', redis.url, '--store', storeUrl, '--cache-dir', cacheDir, '--public-dir', publicDir, '--model', 'generated:tiny', '--browser-executable', BROWSER, '--json']);
		vi.restoreAllMocks();
		expect(code, [...lines, ...stderr].join('\n').slice(-3000)).toBe(0);

		// the table and the summary, whose rows are the manifest's
		for (const name of ['red', 'snowy', 'night']) expect(lines.join('\n')).toMatch(new RegExp(`^${name}\\s+\\S+${name}\\.mp4\\s+rendered\\s+0\\s+1\\s`, 'm'));
		const summary = JSON.parse(lines.at(-1)!) as {ok: boolean; manifest: string; variants: VariantResult[]};
		expect(summary.ok).toBe(true);
		expect((JSON.parse(readFileSync(summary.manifest, 'utf8')) as {variants: VariantResult[]}).variants).toEqual(summary.variants);
		expect(readdirSync(outDir).sort()).toEqual(['manifest.json', 'night.mp4', 'red.mp4', 'snowy.mp4']);
		// one variant's clip queued the inversion, the other two joined it
		expect(summary.variants.map((row) => row.clips[0].inversion).sort()).toEqual(['computed', 'joined', 'joined']);
		const keys = summary.variants.map((row) => row.clips[0].key);
		expect(new Set(keys).size).toBe(3);

		// the engine ran on the workers only: one inversion, three edits
		const runs = engineRuns(engineLog);
		expect({invert: runs.filter((r) => r.kind === 'invert').length, edit: runs.filter((r) => r.kind === 'edit').length}).toEqual({invert: 1, edit: 3});
		const workerPids = new Set(workers.map((w) => w.pid));
		expect(runs.filter((r) => !workerPids.has(r.pid))).toEqual([]);
		expect(runs.some((r) => r.pid === process.pid)).toBe(false);
		// the store holds what the workers made; the coordinator copied each clip into its cache
		expect((await store.list()).map((e) => e.kind).sort()).toEqual(['clips', 'clips', 'clips', 'inversions', 'sources']);
		for (const key of keys) expect(existsSync(path.join(cacheDir, 'clips', key, '00003.png')), key).toBe(true);
		// …and into the store's public tree, for renders that read frames by URL
		expect(stderr.join('\n')).toContain(`Frames are also at ${store.publicBaseUrl}`);
		for (const key of keys) expect((await fetch(`${store.publicBaseUrl}/${publicClipPath(key, 'manifest.json')}`)).status, key).toBe(200);
		// progress came back from the workers through the queue
		const events = stderr
			.join('')
			.split('\n')
			.filter((line) => line.startsWith('{'))
			.map((line) => JSON.parse(line) as {job?: string; stage?: string});
		expect(events.some((e) => typeof e.job === 'string' && e.stage === 'edit')).toBe(true);

		// each output shows its own edit (frame 15 shows clip frame 3)
		const decoded = await Promise.all(summary.variants.map((row) => decodeVideoFrame(row.output, 15)));
		for (let a = 0; a < 3; a++) for (let b = a + 1; b < 3; b++) expect(meanAbsDiff(decoded[a], decoded[b]), `${summary.variants[a].variant} vs ${summary.variants[b].variant}`).toBeGreaterThan(10);

		// the command closed its coordinator: Redis is back to the workers' connections
		let clientsAfter = await redisClients();
		for (let i = 0; i < 50 && clientsAfter !== clientsBefore; i++) {
			await new Promise((r) => setTimeout(r, 100));
			clientsAfter = await redisClients();
		}
		expect(clientsAfter).toBe(clientsBefore);
	}, 300_000);

	it('renderVariants with a coordinator: --fail-fast cancels the queued jobs, writes the manifest and leaves the coordinator to its caller', async () => {
		vi.stubEnv('FATEZERO_ENGINE_LOG', engineLog);
		const settings = testSettings(root);
		const project = await demoProject(settings);
		const serveUrl = await bundleDemo(project);
		const coordinator = new QueueCoordinator({queue: parseQueueUrl(redis.url), store, cacheDir, projectRoot: root, model: settings.model, publicDir: project.publicDir.value, pollMs: 200});
		const outDir = path.join(root, 'fail-fast');
		const events: VariantProgress[] = [];
		try {
			// "broken" is a valid descriptor whose source does not exist: it fails here, before any job is queued
			const variants = [variant('broken', 'a red car on a road', {clip: tinyClip(path.join(root, 'missing-frames'), 'a red car on a road')}), variant('blue', 'a blue van on a road', {clip: tinyClip(frames, 'a blue van on a road', {sourcePrompt: 'a van on a road'})})];
			const result = await renderVariants({entryPoint: ENTRY, compositionId: 'ClipInSequence', variants, outDir, settings, project, serveUrl, browserExecutable: BROWSER, failFast: true, queue: coordinator, onVariantProgress: (e) => events.push(e)});
			expect(result.ok).toBe(false);
			expect(result.variants.map((row) => row.status)).toEqual(['failed', 'skipped']);
			expect(result.variants[0].error).toContain('missing-frames');
			expect(result.variants[1].error).toContain('--fail-fast stopped the batch after variant "broken" failed');
			expect(readdirSync(outDir)).toEqual(['manifest.json']);
			expect(events.filter((e) => e.stage === 'rendering')).toEqual([]);
			// renderVariants did not close the caller's queue: it still takes jobs (a store hit here)
			expect((await coordinator.add(VARIANTS[0].props.clip)).status).toBe('hit');
		} finally {
			await coordinator.close();
		}
		// nothing of the cancelled batch is left waiting or running on the workers
		const queue = new Queue(QUEUE_NAME, {connection: redisOptions(parseQueueUrl(redis.url))});
		try {
			let counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
			for (let i = 0; i < 100 && Object.values(counts).some((n) => n > 0); i++) {
				await new Promise((r) => setTimeout(r, 100));
				counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
			}
			expect(counts).toEqual({waiting: 0, active: 0, delayed: 0, prioritized: 0});
		} finally {
			await queue.close();
		}
		expect(engineRuns(engineLog).some((r) => r.pid === process.pid)).toBe(false);
	}, 180_000);
});
