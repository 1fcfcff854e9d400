import {useEffect, useRef, useState} from 'react';
import {getRemotionEnvironment} from 'remotion';
import type {ClipDescriptor} from '../clip/clip-descriptor.js';
// A type and two constants from a file with no imports: nothing Node-only enters the bundle.
import {DEFAULT_JOB_SERVER_PORT, JOB_SERVER_ENV, type StudioJobState} from '../studio/studio-job-state.js';

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

/** What the progress card shows about a missing clip's job. */
export type StudioJobView = {
	serverUrl: string;
	/** The job's latest state, once the server accepted it. */
	job: StudioJobState | null;
	/** Why there is no progress: the server is unreachable, refused the clip, or the job failed. */
	problem: string | null;
};

type Tracked = {
	key: string;
	descriptor: ClipDescriptor;
	view: StudioJobView;
	listeners: Set<(view: StudioJobView) => void>;
	timer: ReturnType<typeof setTimeout> | null;
	accepted: boolean;
	stopped: boolean;
};

const POLL_MS = 500;
const RETRY_MS = 3000;

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

const step = async (entry: Tracked): Promise<number | null> => {
	const server = entry.view.serverUrl;
	let response: Response;
	try {
		response = entry.accepted
			? await fetch(`${server}/jobs/${entry.key}`, {cache: 'no-store'})
			: await fetch(`${server}/jobs`, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(entry.descriptor), cache: 'no-store'});
	} catch {
		publish(entry, {
			problem: `The FateZero job server is not reachable at ${server}. Start Studio with "npx fatezero studio" (it runs the server), or compute the clip with "npx fatezero prerender"; this card retries every few seconds.`,
		});
		return RETRY_MS;
	}
	if (entry.accepted && response.status === 404) {
		// the server restarted and forgot the job: ask again
		entry.accepted = false;
		return 0;
	}
	if (!response.ok) {
		publish(entry, {problem: `The FateZero job server refused the clip: ${await errorText(response)}`});
		return response.status >= 500 ? RETRY_MS : null;
	}
	const job = (await response.json()) as StudioJobState;
	entry.accepted = true;
	publish(entry, {job, problem: job.status === 'failed' ? `The FateZero job failed: ${job.error ?? 'no reason given'}` : null});
	return job.status === 'done' || job.status === 'failed' ? null : POLL_MS;
};

const drive = (entry: Tracked) => {
	if (entry.stopped) return;
	step(entry)
		.catch((error: unknown) => {
			publish(entry, {problem: `Could not follow the FateZero job: ${error instanceof Error ? error.message : String(error)}`});
			return RETRY_MS;
		})
		.then((next) => {
			if (next !== null && !entry.stopped) entry.timer = setTimeout(() => drive(entry), next);
		});
};

const track = (key: string, descriptor: ClipDescriptor, listener: (view: StudioJobView) => void): (() => void) => {
	let entry = tracked.get(key);
	if (!entry) {
		entry = {key, descriptor, view: {serverUrl: fateZeroJobServerUrl(), job: null, problem: null}, listeners: new Set(), timer: null, accepted: false, stopped: false};
		tracked.set(key, entry);
		drive(entry);
	}
	const current = entry;
	current.listeners.add(listener);
	listener(current.view);
	return () => {
		current.listeners.delete(listener);
		if (current.listeners.size > 0) return;
		// nobody shows the clip any more: stop polling; a later mount asks again (the server joins a running job)
		current.stopped = true;
		if (current.timer) clearTimeout(current.timer);
		tracked.delete(key);
	};
};

/**
 * In Studio, asks the job server for a missing clip (POST /jobs) and follows its progress until it
 * is done, then calls `onDone` once (the caller looks the clip up again). `descriptor` null means
 * nothing is missing. Outside Studio (rendering, the Player, a read-only Studio) it does nothing
 * and returns null.
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
			}
		});
	}, [active, key]);

	return active ? view : null;
};
