import {useEffect, useRef, useState} from 'react';
import {getRemotionEnvironment, Internals} from 'remotion';
import type {ClipDescriptor} from '../clip/clip-descriptor.js';
// A type and two constants from a file with no imports: nothing Node-only enters the bundle.
import {DEFAULT_JOB_SERVER_PORT, JOB_SERVER_ENV, type StudioJobState} from '../clip/studio-job-state.js';
import {STUDIO_TIMINGS} from './studio-timings.js';

let configuredServer: string | null = null;

/**
 * Where Studio asks for missing clips. Default: what `fatezero studio` passes to the page
 * (REMOTION_FATEZERO_JOB_SERVER), else http://127.0.0.1:3990. Call it next to
 * setFateZeroEntryPoint() when the job server runs elsewhere; null restores the default. The URL
 * is no part of any clip descriptor, so it changes no cache key.
 */
export const setFateZeroJobServer = (url: string | null): void => {
	configuredServer = url ? url.replace(/\/+$/, '') : null;
};

/** The job server URL in use (see setFateZeroJobServer). */
export const fateZeroJobServerUrl = (): string => {
	if (configuredServer) return configuredServer;
	// Studio sets window.process.env from the REMOTION_* variables of the process it runs in
	const fromEnv = typeof process !== 'undefined' && process.env ? process.env[JOB_SERVER_ENV] : undefined;
	return fromEnv ? fromEnv.replace(/\/+$/, '') : `http://127.0.0.1:${DEFAULT_JOB_SERVER_PORT}`;
};

/** What the progress card shows about a missing clip's job, and what its buttons do. */
export type StudioJobView = {
	serverUrl: string;
	/** The job's latest state, once the server accepted it. */
	job: StudioJobState | null;
	/** Why there is no progress: the server is unreachable, refused the clip, or the job failed. */
	problem: string | null;
	/** True until the props have not changed for STUDIO_TIMINGS.settleMs: no job is asked for yet. */
	settling: boolean;
	/** Stops the job (DELETE /jobs/<key>); the card then offers to compute it again. */
	cancel: () => void;
	/** Asks for the job again: after a failure, a cancel, or to start at once while settling. */
	retry: () => void;
};

type Tracked = {
	key: string;
	descriptor: ClipDescriptor;
	view: StudioJobView;
	listeners: Set<(view: StudioJobView) => void>;
	timer: ReturnType<typeof setTimeout> | null;
	/** Set while nobody shows the clip: the running job is cancelled when it fires. */
	graceTimer: ReturnType<typeof setTimeout> | null;
	accepted: boolean;
	stopped: boolean;
	/** Cancelled from this page: never asked for again by itself. */
	userCancelled: boolean;
};

// This page's name to the job server (?client= on POST /jobs and GET /events): the server cancels
// a job this page asked for once the page is gone (tab closed, reloaded or crashed: nothing here
// runs then) and no other page wants it. A reload is a new page; it asks again for what it shows.
const CLIENT_ID =
	typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function' ? crypto.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;

// One request and one poll per descriptor per page, shared by every <FateZeroClip> of the clip.
const tracked = new Map<string, Tracked>();

const publish = (entry: Tracked, change: Partial<StudioJobView>) => {
	entry.view = {...entry.view, ...change};
	for (const listener of entry.listeners) listener(entry.view);
};

const errorText = async (response: Response): Promise<string> => {
	try {
		const body = (await response.json()) as {error?: unknown};
		if (typeof body.error === 'string') return body.error;
	} catch {
		// not JSON: fall through
	}
	return `HTTP ${response.status} ${response.statusText}`;
};

const isFinished = (job: StudioJobState) => job.status === 'done' || job.status === 'failed' || job.status === 'cancelled';

const problemOf = (job: StudioJobState): string | null =>
	job.status === 'failed' ? `The FateZero job failed: ${job.error ?? 'no reason given'}` : null;

// One event stream per page (GET /events): states, previews and the end of a job arrive at once;
// the poll below is only the fallback when the stream is down.
let events: EventSource | null = null;
const listen = (server: string) => {
	if (events || typeof EventSource === 'undefined') return;
	events = new EventSource(`${server}/events?client=${CLIENT_ID}`);
	events.addEventListener('job', (message) => {
		let job: StudioJobState;
		try {
			job = JSON.parse((message as MessageEvent<string>).data) as StudioJobState;
		} catch {
			return;
		}
		const entry = tracked.get(job.descriptorKey);
		if (entry && entry.accepted && !entry.stopped) receive(entry, job);
	});
};

/** A new state of a tracked job; returns whether to keep polling. */
const receive = (entry: Tracked, job: StudioJobState): boolean => {
	const previous = entry.view.job;
	// events and polls race: never go back to an older state
	if (previous && previous.updatedAt > job.updatedAt) return !isFinished(previous);
	// another page dropped the clip while this one still shows it: ask again
	if (job.status === 'cancelled' && job.cancelledBy === 'unused' && !entry.userCancelled && entry.listeners.size > 0) {
		entry.accepted = false;
		schedule(entry, 0);
		return false;
	}
	publish(entry, {job, problem: problemOf(job)});
	return !isFinished(job);
};

const step = async (entry: Tracked): Promise<number | null> => {
	const server = entry.view.serverUrl;
	let response: Response;
	try {
		response = entry.accepted
			? await fetch(`${server}/jobs/${entry.key}`, {cache: 'no-store'})
			: await fetch(`${server}/jobs?client=${CLIENT_ID}`, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(entry.descriptor), cache: 'no-store'});
	} catch {
		publish(entry, {
			problem: `The FateZero job server is not reachable at ${server}. Start Studio with "npx fatezero studio" (it runs the server), or compute the clip with "npx fatezero prerender"; this card retries every few seconds.`,
		});
		return STUDIO_TIMINGS.retryMs;
	}
	if (entry.accepted && response.status === 404) {
		// the server restarted and forgot the job: ask again
		entry.accepted = false;
		return 0;
	}
	if (!response.ok) {
		publish(entry, {problem: `The FateZero job server refused the clip: ${await errorText(response)}`});
		return response.status >= 500 || response.status === 429 ? STUDIO_TIMINGS.retryMs : null;
	}
	const job = (await response.json()) as StudioJobState;
	const wasAccepted = entry.accepted;
	entry.accepted = true;
	listen(server);
	if (!wasAccepted) entry.view = {...entry.view, job: null}; // a fresh request: forget the last run's state
	return receive(entry, job) ? (events && events.readyState === EventSource.OPEN ? STUDIO_TIMINGS.slowPollMs : STUDIO_TIMINGS.pollMs) : null;
};

const schedule = (entry: Tracked, delayMs: number) => {
	if (entry.timer) clearTimeout(entry.timer);
	entry.timer = setTimeout(() => drive(entry), delayMs);
};

const drive = (entry: Tracked) => {
	entry.timer = null;
	if (entry.stopped) return;
	publish(entry, {settling: false});
	step(entry)
		.catch((error: unknown) => {
			publish(entry, {problem: `Could not follow the FateZero job: ${error instanceof Error ? error.message : String(error)}`});
			return STUDIO_TIMINGS.retryMs;
		})
		.then((next) => {
			if (next !== null && !entry.stopped && entry.timer === null) schedule(entry, next);
		});
};

const cancelOnServer = (entry: Tracked, reason: 'user' | 'unused') => {
	void fetch(`${entry.view.serverUrl}/jobs/${entry.key}${reason === 'unused' ? '?reason=unused' : ''}`, {method: 'DELETE', cache: 'no-store'})
		.then(async (response) => (response.ok ? ((await response.json()) as StudioJobState) : null))
		.then((job) => {
			if (job && !entry.stopped) receive(entry, job);
		})
		.catch(() => undefined);
};

const createEntry = (key: string, descriptor: ClipDescriptor): Tracked => {
	const entry: Tracked = {
		key,
		descriptor,
		view: {serverUrl: fateZeroJobServerUrl(), job: null, problem: null, settling: true, cancel: () => undefined, retry: () => undefined},
		listeners: new Set(),
		timer: null,
		graceTimer: null,
		accepted: false,
		stopped: false,
		userCancelled: false,
	};
	entry.view.cancel = () => {
		entry.userCancelled = true;
		if (!entry.accepted) {
			// still settling: nothing was asked for
			if (entry.timer) clearTimeout(entry.timer);
			entry.timer = null;
			publish(entry, {settling: false, job: null, problem: 'Not computed: cancelled before it started.'});
			return;
		}
		cancelOnServer(entry, 'user');
	};
	entry.view.retry = () => {
		entry.userCancelled = false;
		entry.accepted = false;
		publish(entry, {problem: null});
		schedule(entry, 0);
	};
	return entry;
};

const track = (key: string, descriptor: ClipDescriptor, listener: (view: StudioJobView) => void): (() => void) => {
	let entry = tracked.get(key);
	if (entry?.graceTimer) {
		// shown again within the grace period: keep the job
		clearTimeout(entry.graceTimer);
		entry.graceTimer = null;
	}
	if (!entry) {
		entry = createEntry(key, descriptor);
		tracked.set(key, entry);
		// a job starts only once the props stop changing: typing a prompt asks for one job, not one per key
		schedule(entry, STUDIO_TIMINGS.settleMs);
	}
	const current = entry;
	current.listeners.add(listener);
	listener(current.view);
	return () => {
		current.listeners.delete(listener);
		if (current.listeners.size > 0) return;
		const stop = () => {
			current.stopped = true;
			if (current.timer) clearTimeout(current.timer);
			current.timer = null;
			current.graceTimer = null;
			tracked.delete(key);
		};
		const job = current.view.job;
		if (!current.accepted || !job || isFinished(job)) {
			// never asked for (still settling), or nothing left to run
			stop();
			return;
		}
		if (job.status === 'queued') {
			// superseded before it started: it would only hold up the queue
			cancelOnServer(current, 'unused');
			stop();
			return;
		}
		// running: give the composition a moment to come back (undo, switching compositions) before cancelling
		current.graceTimer = setTimeout(() => {
			if (current.listeners.size > 0) return;
			cancelOnServer(current, 'unused');
			stop();
		}, STUDIO_TIMINGS.graceMs);
	};
};

/** Re-runs calculateMetadata of the open composition (Studio's own reevaluateComposition()): a durationFromClip follows the finished clip. */
const reevaluateComposition = () => {
	Internals.resolveCompositionsRef.current?.reloadCurrentlySelectedComposition();
};

/**
 * In Studio, asks the job server for a missing clip (POST /jobs) once the props have settled,
 * follows its progress until it is done, then calls `onDone` once (the caller looks the clip up
 * again) and re-runs the composition's calculateMetadata. `descriptor` null means nothing is
 * missing. A job no composition shows any more is cancelled: at once when queued, after
 * STUDIO_TIMINGS.graceMs when running; when the page itself goes (closed, crashed), the job
 * server cancels what no other page wants. Outside Studio (rendering, the Player, a read-only Studio)
 * it does nothing and returns null.
 */
export const useStudioJob = (descriptor: ClipDescriptor | null, key: string, onDone: () => void): StudioJobView | null => {
	const environment = getRemotionEnvironment();
	const active = descriptor !== null && environment.isStudio && !environment.isRendering && !environment.isReadOnlyStudio;
	const [view, setView] = useState<StudioJobView | null>(null);
	const onDoneRef = useRef(onDone);
	onDoneRef.current = onDone;
	const descriptorRef = useRef(descriptor);
	descriptorRef.current = descriptor;

	useEffect(() => {
		if (!active || !descriptorRef.current) {
			setView(null);
			return;
		}
		let done = false;
		return track(key, descriptorRef.current, (next) => {
			setView(next);
			if (!done && next.job?.status === 'done') {
				done = true;
				onDoneRef.current();
				reevaluateComposition();
			}
		});
	}, [active, key]);

	return active ? view : null;
};
