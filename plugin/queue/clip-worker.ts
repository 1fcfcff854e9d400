import os from 'node:os';
import {UnrecoverableError, Worker, type Job} from 'bullmq';
import {Redis} from 'ioredis';
import {FateZeroError} from '../errors/fatezero-error.js';
import {EnginePool} from '../jobs/engine-pool.js';
import {progressTracker, type JobProgress} from '../jobs/job-progress.js';
import {readModelFolder, type ModelFolder} from '../model/read-model-folder.js';
import type {ComputeType, Setting} from '../project/project-settings.js';
import {resolveModel} from '../project/resolve-model.js';
import type {ExecutionProviderName} from '../runtime/session-spec.js';
import type {SharedStore} from '../store/shared-store.js';
import {pullEntry, pushEntry} from '../store/sync-entry.js';
import {ensureEdit, ensureInversion, workerClipJob} from './clip-stages.js';
import {CANCEL_CHANNEL, CANCELLED_PREFIX, QUEUE_DEFAULTS, QUEUE_NAME, redisOptions, stageKey, stageKind, type RedisLocation, type StageJobData, type StageJobResult} from './queue-protocol.js';

export type ClipWorkerOptions = {
	queue: RedisLocation;
	store: SharedStore;
	/** The worker's own cache: the read-through copy of the store, and its engine graphs. */
	cacheDir: string;
	model: Pick<Setting<string | null>, 'value' | 'origin'>;
	executionProvider?: ExecutionProviderName;
	computeType?: ComputeType;
	threads?: number | null;
	/** Jobs at once. Default 1: one job uses the whole GPU (or every core). */
	concurrency?: number;
	lockDurationMs?: number;
	stalledIntervalMs?: number;
	memoryBudgetInMegabytes?: number;
	/** How long a start waits for Redis before failing with QUEUE_UNAVAILABLE. Default QUEUE_DEFAULTS.unreachableTimeoutMs. */
	unreachableTimeoutMs?: number;
	/** One line per job event, for people. Default: none. */
	log?: (line: string) => void;
};

export type ClipWorker = {id: string; close(options?: {force?: boolean}): Promise<void>};

const mismatch = (what: string, job: string, theirs: unknown, ours: unknown, advice: string) =>
	new UnrecoverableError(`This worker cannot run ${job}: the job asks for ${what} ${JSON.stringify(theirs)}, this worker has ${JSON.stringify(ours)}. ${advice}`);

/**
 * A GPU worker: takes `invert` and `edit` jobs from the queue, one engine pool kept warm between
 * jobs. Each job first asks the store (a duplicate costs one request), refuses (unrecoverable) when
 * its model or engine settings differ from the job's, copies the inputs from the store into the
 * local cache, runs the stage, and publishes the result to the store before it completes.
 */
export const startClipWorker = async (options: ClipWorkerOptions): Promise<ClipWorker> => {
	const id = `${os.hostname()}:${process.pid}`;
	const log = options.log ?? (() => undefined);
	const pool = new EnginePool({cacheDir: options.cacheDir, executionProvider: options.executionProvider, computeType: options.computeType, intraOpThreads: options.threads ?? undefined});
	const resolved = await resolveModel(options.model, options.cacheDir);
	const model: {dir: string; generated: boolean; folder: ModelFolder} = {dir: resolved.dir, generated: resolved.generated, folder: readModelFolder(resolved.dir)};
	const lockDurationMs = options.lockDurationMs ?? QUEUE_DEFAULTS.lockDurationMs;

	const processJob = async (job: Job<StageJobData, StageJobResult>, token: string | undefined, signal: AbortSignal | undefined): Promise<StageJobResult> => {
		const data = job.data;
		const kind = stageKind(data.stage);
		const key = stageKey(data.stage, data.keys);
		if (await options.store.head(kind, key)) return {status: 'hit', worker: id};
		if (model.folder.modelIdentity !== data.modelIdentity) {
			throw mismatch('model', job.id!, data.modelIdentity.slice(0, 16), model.folder.modelIdentity.slice(0, 16), `Start this worker with the coordinator's model (--model), or let a worker that has it take the job.`);
		}
		for (const setting of ['computeType', 'executionProvider', 'attentionSource'] as const) {
			if (data.engineRun[setting] !== pool.settings[setting]) {
				throw mismatch(setting, job.id!, data.engineRun[setting], pool.settings[setting], 'The content keys name it (it changes pixels): start the coordinator and the workers with the same --execution-provider and --compute-type.');
			}
		}
		log(`${job.id}: ${data.stage} of ${data.label}`);
		let renewedAt = Date.now();
		const tick = progressTracker(data.label, (event: JobProgress) => {
			job.updateProgress(event as never).catch(() => undefined);
			// BullMQ renews on a timer too; renewing on steps keeps the lock fresh even if a timer is late
			if (token && Date.now() - renewedAt > lockDurationMs / 4) {
				renewedAt = Date.now();
				job.extendLock(token, lockDurationMs).catch(() => undefined);
			}
		});
		const clipJob = workerClipJob({
			jobOptions: {descriptor: data.descriptor, cacheDir: options.cacheDir, pool, memoryBudgetInMegabytes: options.memoryBudgetInMegabytes, signal},
			descriptor: data.descriptor,
			descriptorKey: data.descriptorKey,
			contentHash: data.contentHash,
			keys: data.keys,
			engineRun: data.engineRun,
			model,
			tick,
		});
		try {
			const source = await pullEntry(options.store, 'sources', data.keys.sourceKey, options.cacheDir, {signal});
			if (!source) throw new UnrecoverableError(`${job.id}: the store ${options.store.description} has no sources/${data.keys.sourceKey}; the coordinator publishes it before queueing. Submit the clip again.`);
			let entry;
			if (data.stage === 'invert') {
				entry = await ensureInversion(clipJob, source);
			} else {
				const inversion = await pullEntry(options.store, 'inversions', data.keys.inversionKey, options.cacheDir, {signal});
				if (!inversion) throw new UnrecoverableError(`${job.id}: the store ${options.store.description} has no inversions/${data.keys.inversionKey}; the coordinator queues an edit only after its inversion. Submit the clip again.`);
				entry = await ensureEdit(clipJob, source, inversion);
			}
			const published = await pushEntry(options.store, kind, key, options.cacheDir);
			log(`${job.id}: ${published.published ? 'published' : 'already in the store'}`);
			return {status: entry.status === 'hit' ? 'joined' : entry.status, worker: id};
		} catch (error) {
			if (signal?.aborted || (error instanceof FateZeroError && error.code === 'ABORTED')) {
				log(`${job.id}: cancelled`);
				throw new UnrecoverableError(`${CANCELLED_PREFIX} ${String(signal?.reason ?? (error as Error).message)}`);
			}
			throw error;
		}
	};

	const worker = new Worker<StageJobData, StageJobResult>(QUEUE_NAME, processJob, {
		connection: redisOptions(options.queue),
		concurrency: options.concurrency ?? 1,
		lockDuration: lockDurationMs,
		stalledInterval: options.stalledIntervalMs ?? QUEUE_DEFAULTS.stalledIntervalMs,
		maxStalledCount: QUEUE_DEFAULTS.maxStalledCount,
	});
	worker.on('failed', (job, error) => log(`${job?.id ?? '?'}: failed: ${error.message}`));
	// ioredis reconnects forever (a worker is a daemon); say so once per error and half-minute, not per retry
	let lastError = {message: '', at: 0};
	worker.on('error', (error) => {
		if (error.message !== lastError.message || Date.now() - lastError.at > 30_000) log(`queue error (reconnecting): ${error.message}`);
		lastError = {message: error.message, at: Date.now()};
	});
	// cancellation reaches the worker that runs the job: every worker listens, the one running it aborts
	const subscriber = new Redis(redisOptions(options.queue));
	subscriber.on('error', () => undefined);
	subscriber.on('message', (_channel, jobId: string) => {
		if (worker.cancelJob(jobId, 'cancelled by its coordinator')) log(`${jobId}: cancelling`);
	});
	// at start, an unreachable Redis is a mistake to report, not an outage to wait out
	const limitMs = options.unreachableTimeoutMs ?? QUEUE_DEFAULTS.unreachableTimeoutMs;
	let timer: NodeJS.Timeout | undefined;
	try {
		await Promise.race([
			Promise.all([worker.waitUntilReady(), subscriber.subscribe(CANCEL_CHANNEL)]),
			new Promise((_, reject) => {
				timer = setTimeout(
					() => reject(new FateZeroError('QUEUE_UNAVAILABLE', `Redis at ${options.queue.host}:${options.queue.port} did not answer for ${Math.round(limitMs / 1000)} s. Start it, or check --queue redis://HOST:PORT.`)),
					limitMs,
				);
			}),
		]);
	} catch (error) {
		subscriber.disconnect();
		await worker.close(true).catch(() => undefined);
		await pool.dispose();
		throw error;
	} finally {
		clearTimeout(timer);
	}
	return {
		id,
		async close({force = false} = {}) {
			await worker.close(force);
			subscriber.disconnect();
			await pool.dispose();
		},
	};
};
