import {FateZeroError} from '../errors/fatezero-error.js';
import {defaultThreadCount, type ThreadCount} from './default-thread-count.js';
import {parseExecutionProvider, requireExecutionProvider} from './execution-providers.js';
import type {HostTensor} from './host-tensor.js';
import type {ExecutionProviderName, RuntimeOptions, SessionSpec} from './session-spec.js';
import {packBytes, packTensors} from './tensor-transfer.js';
import {WorkerClient} from './worker-client.js';
import type {SessionInfo} from './worker-protocol.js';

export type RunOptions = {
	/** Outputs to return (default: all). Only these are copied out of ORT. */
	fetches?: readonly string[];
	/**
	 * Rejects with 'ABORTED' if aborted before the run starts, or as soon as it is aborted while
	 * running; ORT cannot stop a run midway, so the worker finishes it and drops the result.
	 */
	signal?: AbortSignal;
	/**
	 * false (default): feeds are copied once, the caller keeps its arrays. true: feeds whose
	 * typed array owns its whole ArrayBuffer are moved to the worker without a copy, and those
	 * arrays are detached (length 0) afterwards; use it for big tensors built only for this run.
	 */
	transferFeeds?: boolean;
};

/** A session living in the inference worker. Results are plain HostTensors owned by the caller. */
export type InferenceSession = {
	readonly label: string;
	/** The provider the session runs on (verified to bind; never a silent CPU fallback). */
	readonly provider: ExecutionProviderName;
	/** The intra-op threads ORT was given for this session, and where the count came from. */
	readonly threads: ThreadCount;
	readonly inputNames: readonly string[];
	readonly outputNames: readonly string[];
	run(feeds: Record<string, HostTensor>, options?: RunOptions): Promise<Record<string, HostTensor>>;
	dispose(): Promise<void>;
};

export type InferenceRuntime = {
	readonly executionProvider: ExecutionProviderName;
	/**
	 * The intra-op threads every session of this runtime gets: RuntimeOptions.intraOpThreads, else
	 * FATEZERO_THREADS, else the cores this process may use (see defaultThreadCount).
	 */
	readonly threads: ThreadCount;
	/** Loads a graph (and its external weights, read in the worker) into a new session. */
	createSession(spec: SessionSpec): Promise<InferenceSession>;
	/**
	 * Returns the session cached under `key`, creating it from `makeSpec()` on first use.
	 * Concurrent calls with one key share one creation; a failed creation is not cached.
	 */
	getOrCreateSession(key: string, makeSpec: () => SessionSpec | Promise<SessionSpec>): Promise<InferenceSession>;
	/**
	 * Rejects pending runs ('SESSION_DISPOSED'), releases every session and ends the worker.
	 * Resolves once the thread is gone, which is after the run in progress, if any, has finished.
	 */
	dispose(): Promise<void>;
};

const clients = new WeakMap<InferenceRuntime, WorkerClient>();

const checkOptions = (options: RuntimeOptions): ExecutionProviderName => {
	const provider = parseExecutionProvider(options.executionProvider);
	const threads = options.intraOpThreads;
	if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) {
		throw new FateZeroError('INVALID_OPTION', `intraOpThreads: ${threads} is not a positive integer. Leave it unset to use every core.`);
	}
	return provider;
};

/**
 * Starts one worker thread that will own every ORT session of this runtime, so inference never
 * blocks the event loop. Sessions run one at a time, in call order. Dispose the runtime when done.
 */
export const createInferenceRuntime = async (options: RuntimeOptions = {}): Promise<InferenceRuntime> => {
	const provider = checkOptions(options);
	// Resolved here, once, so a bad FATEZERO_THREADS fails before the worker starts and every
	// session of the runtime gets the same count (the worker would read the same env and cgroup).
	const threads = defaultThreadCount({threads: options.intraOpThreads});
	const runtimeOptions: RuntimeOptions = {...options, executionProvider: provider};
	const client = await WorkerClient.start();
	const sessions = new Set<{markDisposed(): void}>();
	const cache = new Map<string, Promise<InferenceSession>>();
	// Reverse links so a disposed session leaves the cache and the next get creates a fresh one.
	const cacheKeys = new Map<InferenceSession, string>();
	const cachedAs = new Map<InferenceSession, Promise<InferenceSession>>();
	let disposed = false;

	const wrap = (info: SessionInfo): InferenceSession => {
		let sessionDisposed = false;
		const describe = `the run of the "${info.label}" session`;
		const handle = {markDisposed: () => (sessionDisposed = true)};
		sessions.add(handle);
		const session: InferenceSession = {
			label: info.label,
			provider: info.provider,
			threads: info.threads,
			inputNames: info.inputNames,
			outputNames: info.outputNames,
			async run(feeds, runOptions = {}) {
				if (sessionDisposed) {
					throw new FateZeroError('SESSION_DISPOSED', `The "${info.label}" session was disposed; create it again with runtime.createSession().`);
				}
				if (runOptions.signal?.aborted) {
					throw new FateZeroError('ABORTED', `The run of the "${info.label}" session was aborted before it started.`);
				}
				const {tensors, transfer} = packTensors(feeds, runOptions.transferFeeds ?? false);
				return client.call<Record<string, HostTensor>>(
					{kind: 'run', session: info.session, feeds: tensors, fetches: runOptions.fetches},
					{describe, transfer, signal: runOptions.signal},
				);
			},
			async dispose() {
				if (sessionDisposed) return;
				sessionDisposed = true;
				sessions.delete(handle);
				const key = cacheKeys.get(session);
				if (key !== undefined && cache.get(key) === cachedAs.get(session)) cache.delete(key);
				if (!disposed) await client.call({kind: 'dispose', session: info.session}, {describe: `disposing the "${info.label}" session`}).catch(() => {});
			},
		};
		return session;
	};

	const runtime: InferenceRuntime = {
		executionProvider: provider,
		threads,
		async createSession(spec) {
			const describe = `the creation of the "${spec.label}" session`;
			if (disposed) throw new FateZeroError('SESSION_DISPOSED', `Cannot start ${describe}: the inference runtime was disposed. Create a new one with createInferenceRuntime().`);
			// Probed here, in the main thread, so a missing provider fails before any weights are
			// read; the result goes to the worker so the process probes each provider only once.
			const probe = provider === 'cpu' ? undefined : await requireExecutionProvider(provider);
			const graph = typeof spec.graph === 'string' ? {bytes: spec.graph, transfer: []} : packBytes(spec.graph);
			const info = await client.call<SessionInfo>(
				{kind: 'create', spec: {...spec, graph: graph.bytes}, options: runtimeOptions, threads, probe},
				{describe, transfer: graph.transfer},
			);
			return wrap(info);
		},
		getOrCreateSession(key, makeSpec) {
			let pending = cache.get(key);
			if (!pending) {
				const created: Promise<InferenceSession> = Promise.resolve()
					.then(makeSpec)
					.then((spec) => runtime.createSession(spec))
					.then((session) => {
						cacheKeys.set(session, key);
						cachedAs.set(session, created);
						return session;
					});
				cache.set(key, created);
				created.catch(() => cache.get(key) === created && cache.delete(key));
				pending = created;
			}
			return pending;
		},
		async dispose() {
			disposed = true;
			for (const s of sessions) s.markDisposed();
			sessions.clear();
			cache.clear();
			cacheKeys.clear();
			cachedAs.clear();
			await client.close();
		},
	};
	clients.set(runtime, client);
	return runtime;
};

/**
 * Test hook: makes the worker thread exit while this call is in flight, exercising the path a
 * real crash takes. Resolves never; rejects with 'INFERENCE_FAILED'.
 */
export const simulateWorkerCrash = (runtime: InferenceRuntime): Promise<never> => {
	const client = clients.get(runtime);
	if (!client) return Promise.reject(new TypeError('simulateWorkerCrash: not a runtime from createInferenceRuntime()'));
	return client.call<never>({kind: 'crash'}, {describe: 'a simulated crash'});
};
