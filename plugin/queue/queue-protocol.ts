import type {ClipDescriptor} from '../clip/clip-descriptor.js';
import {FateZeroError} from '../errors/fatezero-error.js';
import type {ClipContentKeys, EngineKeyOptions} from '../frame-cache/content-keys.js';

/** The BullMQ queue every coordinator and worker of one store shares. */
export const QUEUE_NAME = 'fatezero';
/** Redis pub/sub channel on which coordinators ask workers to abort a running job (message: the job id). */
export const CANCEL_CHANNEL = 'fatezero:cancel';

export type StageName = 'invert' | 'edit';

/**
 * A job's data: everything a worker needs besides the store. The source never travels (the
 * coordinator imported it and published the sources entry); the model identity and the engine run
 * name what the keys were computed for, and a worker that would compute something else refuses.
 */
export type StageJobData = {
	stage: StageName;
	/** Shown in progress lines (the submitting clip's label or descriptor key). */
	label: string;
	descriptor: ClipDescriptor;
	descriptorKey: string;
	contentHash: string;
	keys: ClipContentKeys;
	engineRun: EngineKeyOptions;
	modelIdentity: string;
};

export type StageJobResult = {status: 'hit' | 'computed' | 'joined'; worker: string};

/** Content-addressed job ids: two coordinators asking for one result name one job. */
export const stageJobId = (stage: StageName, keys: ClipContentKeys): string => (stage === 'invert' ? `inv-${keys.inversionKey}` : `edit-${keys.editKey}`);
export const stageKind = (stage: StageName) => (stage === 'invert' ? ('inversions' as const) : ('clips' as const));
export const stageKey = (stage: StageName, keys: ClipContentKeys): string => (stage === 'invert' ? keys.inversionKey : keys.editKey);

/** Failure reasons that start with this are cancellations: other coordinators waiting for the same job re-queue it. */
export const CANCELLED_PREFIX = 'CANCELLED:';

export const QUEUE_DEFAULTS = {
	// A job's lock is renewed every lockDuration/2 by BullMQ's timer and on every progress step;
	// ORT runs in a worker thread, so the event loop keeps renewing during long GPU steps. The
	// duration only has to outlast the longest event-loop stall (model load, PNG encoding), and it
	// is also how long a killed worker's job waits before another worker takes it.
	lockDurationMs: 5 * 60_000,
	stalledIntervalMs: 30_000,
	// a job whose worker died twice is failed rather than retried forever
	maxStalledCount: 2,
	/** The coordinator re-checks the store and the job this often (events wake it sooner). */
	pollMs: 1000,
	/** How long the coordinator waits for an unreachable Redis before failing. */
	unreachableTimeoutMs: 60_000,
};

export type RedisLocation = {host: string; port: number; db: number; password?: string; username?: string};

/** `--queue redis://[user:password@]HOST:PORT[/DB]`. */
export const parseQueueUrl = (value: string): RedisLocation => {
	let url: URL;
	try {
		url = new URL(value);
	} catch {
		throw new FateZeroError('INVALID_OPTION', `--queue ${JSON.stringify(value)} is not a URL. Pass --queue redis://HOST:PORT (the Redis server every worker and coordinator shares).`);
	}
	if (url.protocol !== 'redis:') throw new FateZeroError('INVALID_OPTION', `--queue ${JSON.stringify(value)} must start with redis://, e.g. --queue redis://127.0.0.1:6379.`);
	const db = url.pathname.replace(/^\//, '');
	if (db !== '' && !/^\d+$/.test(db)) throw new FateZeroError('INVALID_OPTION', `--queue ${JSON.stringify(value)}: the path must be a database number, e.g. redis://host:6379/0.`);
	return {
		host: url.hostname || '127.0.0.1',
		port: url.port ? Number(url.port) : 6379,
		db: db === '' ? 0 : Number(db),
		...(url.password ? {password: decodeURIComponent(url.password)} : {}),
		...(url.username ? {username: decodeURIComponent(url.username)} : {}),
	};
};

/** ioredis options for BullMQ (which needs maxRetriesPerRequest: null so blocking commands survive reconnects). */
export const redisOptions = (location: RedisLocation) => ({...location, maxRetriesPerRequest: null, enableOfflineQueue: true});
