import {existsSync, readFileSync} from 'node:fs';
import type {ClipDescriptor} from '../clip/clip-descriptor.js';
import {descriptorKey} from '../clip/descriptor-key.js';
import {FateZeroError} from '../errors/fatezero-error.js';
import type {JobProgress, OnJobProgress} from '../jobs/job-progress.js';
import {JobQueue, type JobQueueOptions} from '../jobs/job-queue.js';
import type {JobPreview} from '../jobs/live-preview.js';
import type {ClipJobResult} from '../jobs/run-clip-job.js';
import type {ExecutionProviderName} from '../runtime/session-spec.js';
import {sourcePreviewFile} from './source-preview.js';
import {MAX_ERROR_CHARS, MAX_LABEL_CHARS, type StudioCancelReason, type StudioJobState} from '../clip/studio-job-state.js';

/** A decoded preview of a running job (the engine's x0 prediction of one frame), as PNG bytes. */
export type StudioPreviewEvent = JobPreview;

/** The part of JobQueue the job server uses (tests pass a fake one). */
export type StudioJobQueue = {
	add(descriptor: unknown, options: {signal?: AbortSignal; id?: string}): Promise<ClipJobResult>;
	close(): Promise<void>;
};

export type StudioJobsOptions = {
	cacheDir: string;
	projectRoot: string;
	executionProvider?: ExecutionProviderName;
	/** The rest of the job queue's settings: model, public dir, compute type, threads. */
	queueOptions?: Pick<JobQueueOptions, 'model' | 'publicDir' | 'computeType' | 'threads'>;
	/** The URL the preview image of a job is served at (by the job server). */
	previewUrl: (descriptorKey: string) => string;
	/** Builds the queue; default a JobQueue on the cache dir and project root. */
	createQueue?: (onProgress: OnJobProgress, onPreview: (event: StudioPreviewEvent) => void) => StudioJobQueue;
	/** Jobs waiting to start at most; one more is refused (the server answers 429). Default 16. */
	maxQueuedJobs?: number;
	/** Finished (done, failed, cancelled) jobs kept for GET /jobs; older ones are forgotten. Default 64. */
	maxFinishedJobs?: number;
};

type Entry = {
	state: StudioJobState;
	/** The source frame shown until the engine's first preview. */
	sourcePreviewFile: string | null;
	/** The latest decoded preview, kept in memory while the job is unfinished. */
	previewPng: Uint8Array | null;
	abort: AbortController;
	/** Settles when this key's engine run has returned (a cancelled run may still be stopping). */
	settled: Promise<void>;
};

/** Thrown by submit() when too many jobs wait (the job server answers 429). */
export class TooManyJobsError extends Error {}

const truncate = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

const shortLabel = (descriptor: ClipDescriptor): string => truncate(descriptor.label ?? descriptor.prompt, MAX_LABEL_CHARS);

const isFinished = (state: StudioJobState) => state.status === 'done' || state.status === 'failed' || state.status === 'cancelled';

/**
 * The jobs Studio asked for, by descriptor key, with their latest progress. Every job runs on one
 * JobQueue (one engine pool: a model loads once per process); asking again for a key that is
 * queued or running joins it, and a finished, failed or cancelled key runs again (a cache hit is
 * quick). The state it keeps is bounded: labels and errors are cut, at most `maxQueuedJobs` wait,
 * and only the latest `maxFinishedJobs` finished jobs are remembered.
 */
export class StudioJobs {
	private readonly entries = new Map<string, Entry>();
	private readonly byShortKey = new Map<string, string>();
	private readonly listeners = new Set<(state: StudioJobState) => void>();
	private readonly abort = new AbortController();
	private readonly running = new Set<Promise<void>>();
	private readonly queue: StudioJobQueue;
	private readonly maxQueued: number;
	private readonly maxFinished: number;

	constructor(private readonly options: StudioJobsOptions) {
		const onProgress: OnJobProgress = (event) => this.onProgress(event);
		const onPreview = (event: StudioPreviewEvent) => this.onPreview(event);
		this.maxQueued = options.maxQueuedJobs ?? 16;
		this.maxFinished = options.maxFinishedJobs ?? 64;
		this.queue =
			options.createQueue?.(onProgress, onPreview) ??
			new JobQueue({
				...options.queueOptions,
				cacheDir: options.cacheDir,
				projectRoot: options.projectRoot,
				executionProvider: options.executionProvider,
				onProgress,
				onPreview,
			});
	}

	/** Queues a checked descriptor (unless it is already queued or running) and returns its state. */
	submit(descriptor: ClipDescriptor, sourcePath: string): StudioJobState {
		if (this.abort.signal.aborted) throw new FateZeroError('ABORTED', 'The FateZero job server is shutting down; start it again ("fatezero studio").');
		const key = descriptorKey(descriptor);
		const existing = this.entries.get(key);
		if (existing && !isFinished(existing.state)) return existing.state;
		const queued = [...this.entries.values()].filter((entry) => entry.state.status === 'queued').length;
		if (queued >= this.maxQueued) {
			throw new TooManyJobsError(
				`${queued} jobs are already waiting (the limit is ${this.maxQueued}). Cancel some (DELETE /jobs/<key>, or the card's Cancel button) or wait for them to finish, then ask again.`,
			);
		}
		const abort = new AbortController();
		const signal = AbortSignal.any([this.abort.signal, abort.signal]);
		const entry: Entry = {state: this.initialState(key, descriptor), sourcePreviewFile: existing?.sourcePreviewFile ?? null, previewPng: null, abort, settled: Promise.resolve()};
		this.entries.delete(key); // re-inserted last: the Map's order is the pruning order
		this.entries.set(key, entry);
		// Progress events name a job by its label, else the first 12 hex digits of its key. Labels
		// are free text and two clips may share one, so the queue gets the descriptor without its
		// label (which changes no key and no pixel) and events map back by the key prefix.
		this.byShortKey.set(key.slice(0, 12), key);
		const {label: _label, ...unlabelled} = descriptor;
		if (!entry.sourcePreviewFile) {
			sourcePreviewFile(descriptor, sourcePath, this.options.cacheDir, this.abort.signal)
				.then((file) => {
					entry.sourcePreviewFile = file;
					this.refreshPreview(key);
				})
				.catch(() => undefined); // no preview; the job reports the unreadable source itself
		}
		// a cancelled run of this key may still be stopping (the engine checks between steps): start after it
		const previous = existing?.settled ?? Promise.resolve();
		const run = previous
			.then(() => {
				signal.throwIfAborted();
				return this.queue.add(unlabelled, {id: key, signal});
			})
			.then(
				(result) => {
					if (this.entries.get(key) === entry) this.finish(key, {status: 'done', stage: 'done', step: 1, total: 1, etaSeconds: 0, editKey: result.key, ...(result.warnings?.length ? {warnings: result.warnings} : {})});
				},
				(error: unknown) => {
					if (this.entries.get(key) !== entry || entry.state.status === 'cancelled') return;
					const message = this.abort.signal.aborted ? 'The FateZero job server stopped before the job finished; start "fatezero studio" again to resume it from the cached stages.' : error instanceof Error ? error.message : String(error);
					this.finish(key, {status: 'failed', error: truncate(message, MAX_ERROR_CHARS), etaSeconds: null});
				},
			)
			.finally(() => this.running.delete(run));
		entry.settled = run;
		this.running.add(run);
		this.emit(entry.state);
		return entry.state;
	}

	/**
	 * Cancels a queued or running job: a queued one never starts, a running one stops at its next
	 * step (nothing half-written is published). Returns its state, or null for an unknown key.
	 */
	cancel(key: string, reason: StudioCancelReason = 'user'): StudioJobState | null {
		const entry = this.entries.get(key);
		if (!entry) return null;
		if (isFinished(entry.state)) return entry.state;
		this.finish(key, {status: 'cancelled', cancelledBy: reason, etaSeconds: null});
		entry.abort.abort(new FateZeroError('ABORTED', `The job was cancelled (${reason === 'user' ? 'by the user' : 'no open composition shows the clip any more'}).`));
		return entry.state;
	}

	get(key: string): StudioJobState | null {
		return this.entries.get(key)?.state ?? null;
	}

	list(): StudioJobState[] {
		return [...this.entries.values()].map((entry) => entry.state);
	}

	/** The preview image of a job: the engine's latest decoded frame, else the source frame once it exists. */
	preview(key: string): {png: Uint8Array} | {file: string} | null {
		const entry = this.entries.get(key);
		if (!entry) return null;
		if (entry.previewPng) return {png: entry.previewPng};
		const file = entry.sourcePreviewFile;
		return file && existsSync(file) ? {file} : null;
	}

	/** The image file of a job's preview, once it exists (the source frame; see preview()). */
	previewFile(key: string): string | null {
		const preview = this.preview(key);
		return preview && 'file' in preview ? preview.file : null;
	}

	/** Calls `listener` with every state change; returns the unsubscribe function. */
	subscribe(listener: (state: StudioJobState) => void): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	/** Cancels queued and running jobs (nothing half-written is published), then releases the engines. */
	async close(): Promise<void> {
		this.abort.abort(new FateZeroError('ABORTED', 'The FateZero job server is shutting down.'));
		await Promise.allSettled([...this.running]);
		await this.queue.close();
		this.listeners.clear();
	}

	private initialState(key: string, descriptor: ClipDescriptor): StudioJobState {
		return {descriptorKey: key, status: 'queued', stage: 'queued', step: 0, total: 1, etaSeconds: null, label: shortLabel(descriptor), updatedAt: new Date().toISOString()};
	}

	private entryOf(job: string): [string, Entry] | null {
		const key = this.byShortKey.get(job);
		const entry = key ? this.entries.get(key) : undefined;
		return key && entry && !isFinished(entry.state) ? [key, entry] : null;
	}

	private onProgress(event: JobProgress) {
		const found = this.entryOf(event.job);
		if (found) this.update(found[0], {status: 'running', stage: event.stage, step: event.step, total: event.total, etaSeconds: event.etaSeconds, ...(event.warnings ? {warnings: event.warnings} : {})});
	}

	private onPreview(event: StudioPreviewEvent) {
		const found = this.entryOf(event.job);
		if (!found) return;
		const [key, entry] = found;
		entry.previewPng = event.png;
		this.update(key, {previewUrl: this.options.previewUrl(key), previewVersion: (entry.state.previewVersion ?? 0) + 1, previewStage: event.stage});
	}

	private refreshPreview(key: string) {
		const entry = this.entries.get(key);
		if (entry && !entry.state.previewUrl && this.previewFile(key)) this.update(key, {previewUrl: this.options.previewUrl(key), previewVersion: 1, previewStage: 'source'});
	}

	private finish(key: string, change: Partial<StudioJobState>) {
		const entry = this.entries.get(key);
		if (!entry) return;
		// the decoded preview was only for the wait; the source frame stays (it is on disk)
		entry.previewPng = null;
		this.update(key, {...change, previewVersion: (entry.state.previewVersion ?? 0) + 1, previewStage: entry.sourcePreviewFile ? 'source' : undefined});
		this.prune();
	}

	/** Forgets the oldest finished jobs beyond maxFinishedJobs (unfinished ones are never forgotten). */
	private prune() {
		const finished = [...this.entries.entries()].filter(([, entry]) => isFinished(entry.state));
		for (const [key] of finished.slice(0, Math.max(0, finished.length - this.maxFinished))) {
			this.entries.delete(key);
			if (this.byShortKey.get(key.slice(0, 12)) === key) this.byShortKey.delete(key.slice(0, 12));
		}
	}

	private update(key: string, change: Partial<StudioJobState>) {
		const entry = this.entries.get(key);
		if (!entry) return;
		entry.state = {...entry.state, ...change, updatedAt: new Date().toISOString()};
		if (!entry.state.previewUrl && this.preview(key)) entry.state = {...entry.state, previewUrl: this.options.previewUrl(key), previewStage: entry.state.previewStage ?? 'source'};
		this.emit(entry.state);
	}

	private emit(state: StudioJobState) {
		for (const listener of this.listeners) listener(state);
	}
}

/** Reads a preview for serving: the bytes of the decoded preview, or of the source frame file. */
export const previewBytes = (preview: {png: Uint8Array} | {file: string}): Uint8Array => ('png' in preview ? preview.png : readFileSync(preview.file));
