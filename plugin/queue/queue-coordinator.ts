import {promises as fsp} from 'node:fs';
import path from 'node:path';
import {Queue, QueueEvents} from 'bullmq';
import {Redis} from 'ioredis';
import {frameFileName, publicClipPath, publicIndexPath, publicSourceFramePath} from '../clip/public-layout.js';
import {FateZeroError} from '../errors/fatezero-error.js';
import type {GetOrComputeStatus} from '../frame-cache/compute-once.js';
import {EnginePool} from '../jobs/engine-pool.js';
import type {JobProgress, OnJobProgress} from '../jobs/job-progress.js';
import type {ComputeType, Setting} from '../project/project-settings.js';
import type {ExecutionProviderName} from '../runtime/session-spec.js';
import type {SharedStore} from '../store/shared-store.js';
import {pullEntry, pushEntry} from '../store/sync-entry.js';
import {ensureSource, prepareClipJob, publishClip, type ClipJob, type ClipJobResult} from './clip-stages.js';
import {CANCEL_CHANNEL, CANCELLED_PREFIX, QUEUE_DEFAULTS, QUEUE_NAME, redisOptions, stageJobId, stageKey, stageKind, type RedisLocation, type StageJobData, type StageName} from './queue-protocol.js';

export type QueueCoordinatorOptions = {
	queue: RedisLocation;
	store: SharedStore;
	/** The local cache: sources are imported here, finished clips copied here (and published into publicDir). */
	cacheDir: string;
	projectRoot?: string;
	model?: Pick<Setting<string | null>, 'value' | 'origin'>;
	/** Must be the workers' (they refuse jobs whose keys name another provider or compute type). */
	executionProvider?: ExecutionProviderName;
	computeType?: ComputeType;
	publicDir?: string | null;
	memoryBudgetInMegabytes?: number;
	onProgress?: OnJobProgress;
	pollMs?: number;
	unreachableTimeoutMs?: number;
};

const sleep = (ms: number, signal?: AbortSignal) =>
	new Promise<void>((resolve) => {
		const timer = setTimeout(done, ms);
		function done() {
			clearTimeout(timer);
			signal?.removeEventListener('abort', done);
			resolve();
		}
		signal?.addEventListener('abort', done, {once: true});
	});

/**
 * Runs clip jobs on remote workers (the same add/close as JobQueue, so prerender and the commands
 * take either). Per clip: keys and the import here (raw videos never travel), the sources entry
 * published to the store, then an `invert` job, then an `edit` job — the coordinator drives that
 * dependency itself, since BullMQ flows allow one parent per job and content-addressed jobs are
 * shared by variants and coordinators. The store, not Redis, is the truth: a job that vanished
 * (Redis restarted without persistence) is queued again, and a result already stored is never
 * queued. Finished clips are copied into the local cache and published as a local run would, and,
 * for a store with a URL, into its public tree for renders that read frames by URL.
 */
export class QueueCoordinator {
	private readonly queue: Queue<StageJobData>;
	// made once the queue answers: BullMQ's QueueEvents cannot be closed before its first connection
	private events: QueueEvents | null = null;
	private readonly publisher: Redis;
	// never loads an engine here: only its settings (provider, compute type) enter the keys
	private readonly pool: EnginePool;
	private readonly waiters = new Map<string, Set<(kind: 'progress' | 'finished', data?: JobProgress) => void>>();
	private readonly ready: Promise<unknown>;
	private readonly pending = new Set<Promise<unknown>>();
	// stage jobs this coordinator is waiting for: a second clip needing one (variants of one source) joins it
	private readonly inFlight = new Set<string>();

	constructor(private readonly options: QueueCoordinatorOptions) {
		const connection = redisOptions(options.queue);
		this.queue = new Queue<StageJobData>(QUEUE_NAME, {connection});
		this.publisher = new Redis(connection);
		this.queue.on('error', () => undefined);
		this.publisher.on('error', () => undefined);
		this.pool = new EnginePool({cacheDir: options.cacheDir, executionProvider: options.executionProvider, computeType: options.computeType});
		const notify = (jobId: string, kind: 'progress' | 'finished', data?: JobProgress) => {
			for (const waiter of this.waiters.get(jobId) ?? []) waiter(kind, data);
		};
		this.ready = this.withRedis('connecting', async () => {
			await this.queue.waitUntilReady();
			const events = new QueueEvents(QUEUE_NAME, {connection});
			this.events = events;
			events.on('error', () => undefined);
			events.on('progress', ({jobId, data}) => notify(jobId, 'progress', data as JobProgress));
			events.on('completed', ({jobId}) => notify(jobId, 'finished'));
			events.on('failed', ({jobId}) => notify(jobId, 'finished'));
			await events.waitUntilReady();
		});
		// awaited by the first clip that needs the queue; a run of cache hits never does
		this.ready.catch(() => undefined);
	}

	/** Runs `call` against Redis, failing clearly when Redis stays unreachable (ioredis keeps reconnecting meanwhile). */
	private async withRedis<T>(what: string, call: () => Promise<T>): Promise<T> {
		const limit = this.options.unreachableTimeoutMs ?? QUEUE_DEFAULTS.unreachableTimeoutMs;
		let timer: NodeJS.Timeout | undefined;
		const timeout = new Promise<never>((_, reject) => {
			timer = setTimeout(() => {
				const {host, port} = this.options.queue;
				reject(new FateZeroError('QUEUE_UNAVAILABLE', `Redis at ${host}:${port} did not answer for ${Math.round(limit / 1000)} s while ${what}. Start it (or check --queue); finished stages are in the store ${this.options.store.description} and are not computed again when you rerun.`));
			}, limit);
		});
		try {
			return await Promise.race([call(), timeout]);
		} finally {
			clearTimeout(timer);
		}
	}

	/** Queues a clip descriptor; resolves when its edited frames are in the local cache and published (or were cached). */
	add(descriptor: unknown, options: {signal?: AbortSignal; id?: string} = {}): Promise<ClipJobResult> {
		const run = this.run(descriptor, options.signal);
		this.pending.add(run);
		run.catch(() => undefined).finally(() => this.pending.delete(run));
		return run;
	}

	private async run(descriptor: unknown, signal: AbortSignal | undefined): Promise<ClipJobResult> {
		const {store, cacheDir} = this.options;
		const job = await prepareClipJob({
			descriptor,
			cacheDir,
			projectRoot: this.options.projectRoot,
			pool: this.pool,
			model: this.options.model,
			publicDir: this.options.publicDir,
			memoryBudgetInMegabytes: this.options.memoryBudgetInMegabytes,
			onProgress: this.options.onProgress,
			signal,
		});
		const statuses: ClipJobResult['statuses'] = {source: 'skipped', inversion: 'skipped', clip: 'hit'};
		let clipStatus: GetOrComputeStatus = 'hit';
		if (!(await store.head('clips', job.keys.editKey))) {
			const source = await ensureSource(job);
			statuses.source = source.status;
			await pushEntry(store, 'sources', job.keys.sourceKey, cacheDir);
			await this.ready;
			statuses.inversion = await this.runStage('invert', job, signal);
			clipStatus = await this.runStage('edit', job, signal);
		}
		// the read-through copies: the clip (and its source frames, for the 'source' variant)
		await pullEntry(store, 'sources', job.keys.sourceKey, cacheDir, {signal});
		const clip = await pullEntry(store, 'clips', job.keys.editKey, cacheDir, {signal});
		if (!clip) throw new FateZeroError('CACHE_CORRUPT', `The store ${store.description} lost clips/${job.keys.editKey} right after it was published. Run "fatezero cache verify --store …" and submit again.`);
		const result = await publishClip(job, {...clip, status: clipStatus}, statuses);
		if (store.publicBaseUrl && result.publicPath) await this.publishByUrl(result);
		return result;
	}

	/** Queues one stage (a no-op when the job exists) and waits until its entry is in the store. */
	private async runStage(stage: StageName, job: ClipJob, signal: AbortSignal | undefined): Promise<GetOrComputeStatus> {
		const {store} = this.options;
		const kind = stageKind(stage);
		const key = stageKey(stage, job.keys);
		const jobId = stageJobId(stage, job.keys);
		if (await store.head(kind, key)) return 'hit';
		if (signal?.aborted) throw new FateZeroError('ABORTED', `Cancelled before ${jobId} was queued.`, {cause: signal.reason});
		// 'joined': another clip of this batch, or another coordinator, queued the stage first
		let joined = this.inFlight.has(jobId);
		const owner = !joined;
		this.inFlight.add(jobId);
		const data: StageJobData = {
			stage,
			label: job.descriptor.label ?? job.descriptorKey.slice(0, 12),
			descriptor: job.descriptor,
			descriptorKey: job.descriptorKey,
			contentHash: job.contentHash,
			keys: job.keys,
			engineRun: job.engineRun,
			modelIdentity: job.model.folder.modelIdentity,
		};
		// transient failures (a store request, a worker's disk) are retried by BullMQ; refusals and
		// cancellations are UnrecoverableErrors and are not
		const submit = () =>
			this.withRedis(`queueing ${jobId}`, () => this.queue.add(stage, data, {jobId, attempts: 3, backoff: {type: 'exponential', delay: 2000}, removeOnComplete: true, removeOnFail: {age: 24 * 3600}}));
		// a failure left from an earlier run is retried once; a failure of our own submission is the answer
		let retried = false;
		try {
			const prior = await this.withRedis(`checking ${jobId}`, () => this.queue.getJob(jobId));
			const priorState = prior ? await this.withRedis(`checking ${jobId}`, () => prior.getState()) : null;
			if (prior && priorState === 'failed') await this.withRedis(`retrying ${jobId}`, () => prior.retry('failed'));
			else {
				if (prior) joined = true;
				await submit();
			}
		} catch (error) {
			if (owner) this.inFlight.delete(jobId);
			throw error;
		}
		const done = (): GetOrComputeStatus => (joined ? 'joined' : 'computed');
		job.tick('queued', 0, 1);
		let wake: () => void = () => undefined;
		const waiter = (kind: 'progress' | 'finished', event?: JobProgress) => {
			if (kind === 'progress' && event) this.options.onProgress?.({...event, job: data.label});
			else wake();
		};
		const set = this.waiters.get(jobId) ?? new Set();
		set.add(waiter);
		this.waiters.set(jobId, set);
		try {
			for (;;) {
				if (signal?.aborted) {
					await this.cancel(jobId);
					throw new FateZeroError('ABORTED', `Cancelled while ${jobId} ran: its worker was told to stop. Finished stages stay in the store; run again to resume.`, {cause: signal.reason});
				}
				if (await store.head(kind, key)) return done();
				const queued = await this.withRedis(`checking ${jobId}`, () => this.queue.getJob(jobId));
				if (!queued) {
					// removed on completion just now, or lost with a Redis restart: the store decides
					if (await store.head(kind, key)) return done();
					await submit();
				} else {
					const state = await this.withRedis(`checking ${jobId}`, () => queued.getState());
					if (state === 'failed') {
						// read again: the job object was loaded before its state was asked
						const reason = (await this.withRedis(`checking ${jobId}`, () => this.queue.getJob(jobId)))?.failedReason ?? 'no reason recorded';
						// another coordinator cancelled the job we share: queue it again (once)
						if (reason.startsWith(CANCELLED_PREFIX) && !retried) {
							retried = true;
							await this.withRedis(`retrying ${jobId}`, () => queued.retry('failed'));
						} else {
							throw new FateZeroError('INFERENCE_FAILED', `Job ${jobId} (${stage} of ${data.label}) failed on a worker: ${reason}`);
						}
					}
				}
				await new Promise<void>((resolve) => {
					wake = resolve;
					void sleep(this.options.pollMs ?? QUEUE_DEFAULTS.pollMs, signal).then(resolve);
				});
			}
		} finally {
			set.delete(waiter);
			if (set.size === 0) this.waiters.delete(jobId);
			if (owner) this.inFlight.delete(jobId);
		}
	}

	/** Removes the job if no worker took it yet; else asks every worker to abort it (the one running it does). */
	private async cancel(jobId: string): Promise<void> {
		await this.withRedis(`cancelling ${jobId}`, async () => {
			const queued = await this.queue.getJob(jobId);
			const state = await queued?.getState();
			if (state === 'waiting' || state === 'delayed' || state === 'prioritized') await queued!.remove().catch(() => undefined);
			await this.publisher.publish(CANCEL_CHANNEL, jobId);
		}).catch(() => undefined);
	}

	/** The clip's public tree into the store's, frames first and the index record last, for renders that read frames by URL. */
	private async publishByUrl(result: ClipJobResult): Promise<void> {
		const root = result.publicPath!;
		const put = async (name: string) => this.options.store.putPublicFile(name, new Uint8Array(await fsp.readFile(path.join(root, name))));
		const frames = Object.keys(result.manifest.files).filter((name) => name.endsWith('.png'));
		for (let i = 0; i < (result.manifest.frameCount ?? 0); i++) await put(publicSourceFramePath(result.sourceKey, frameFileName(i)));
		for (const name of frames) await put(publicClipPath(result.key, name));
		await put(publicClipPath(result.key, 'manifest.json'));
		await put(publicIndexPath(result.descriptorKey));
	}

	/** The frame base URL renders read this store's public tree from, or null. */
	get frameBaseUrl(): string | null {
		return this.options.store.publicBaseUrl;
	}

	/** Waits for the clips asked so far, then closes the connections (the queue and its jobs stay in Redis). */
	async close(): Promise<void> {
		await Promise.allSettled([...this.pending]);
		// a graceful close waits for Redis, but not for long when it went away
		await Promise.race([Promise.allSettled([this.queue.close(), this.events?.close()]), sleep(2000)]);
		this.publisher.disconnect();
	}
}
