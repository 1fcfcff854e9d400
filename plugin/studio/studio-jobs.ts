import {existsSync} from 'node:fs';
import type {ClipDescriptor} from '../clip/clip-descriptor.js';
import {descriptorKey} from '../clip/descriptor-key.js';
import {FateZeroError} from '../errors/fatezero-error.js';
import type {JobProgress, OnJobProgress} from '../jobs/job-progress.js';
import {JobQueue, type JobQueueOptions} from '../jobs/job-queue.js';
import type {ClipJobResult} from '../jobs/run-clip-job.js';
import type {ExecutionProviderName} from '../runtime/session-spec.js';
import {sourcePreviewFile} from './source-preview.js';
import type {StudioJobState} from './studio-job-state.js';

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
	createQueue?: (onProgress: OnJobProgress) => StudioJobQueue;
};

type Entry = {state: StudioJobState; previewFile: string | null};

const shortLabel = (descriptor: ClipDescriptor): string =>
	descriptor.label ?? (descriptor.prompt.length > 60 ? `${descriptor.prompt.slice(0, 57)}…` : descriptor.prompt);

/**
 * The jobs Studio asked for, by descriptor key, with their latest progress. Every job runs on one
 * JobQueue (one engine pool: a model loads once per process); asking again for a key that is
 * queued or running joins it, and a finished or failed key runs again (a cache hit is quick).
 */
export class StudioJobs {
	private readonly entries = new Map<string, Entry>();
	private readonly byShortKey = new Map<string, string>();
	private readonly listeners = new Set<(state: StudioJobState) => void>();
	private readonly abort = new AbortController();
	private readonly running = new Set<Promise<void>>();
	private readonly queue: StudioJobQueue;

	constructor(private readonly options: StudioJobsOptions) {
		const onProgress: OnJobProgress = (event) => this.onProgress(event);
		this.queue =
			options.createQueue?.(onProgress) ??
			new JobQueue({...options.queueOptions, cacheDir: options.cacheDir, projectRoot: options.projectRoot, executionProvider: options.executionProvider, onProgress});
	}

	/** Queues a checked descriptor (unless it is already queued or running) and returns its state. */
	submit(descriptor: ClipDescriptor, sourcePath: string): StudioJobState {
		if (this.abort.signal.aborted) throw new FateZeroError('ABORTED', 'The FateZero job server is shutting down; start it again ("fatezero studio").');
		const key = descriptorKey(descriptor);
		const existing = this.entries.get(key);
		if (existing && (existing.state.status === 'queued' || existing.state.status === 'running')) return existing.state;
		const entry: Entry = {state: this.initialState(key, descriptor), previewFile: existing?.previewFile ?? null};
		this.entries.set(key, entry);
		// Progress events name a job by its label, else the first 12 hex digits of its key. Labels
		// are free text and two clips may share one, so the queue gets the descriptor without its
		// label (which changes no key and no pixel) and events map back by the key prefix.
		this.byShortKey.set(key.slice(0, 12), key);
		const {label: _label, ...unlabelled} = descriptor;
		if (!entry.previewFile) {
			sourcePreviewFile(descriptor, sourcePath, this.options.cacheDir, this.abort.signal)
				.then((file) => {
					entry.previewFile = file;
					this.refreshPreview(key);
				})
				.catch(() => undefined); // no preview; the job reports the unreadable source itself
		}
		const run = this.queue
			.add(unlabelled, {id: key, signal: this.abort.signal})
			.then(
				(result) => this.update(key, {status: 'done', stage: 'done', step: 1, total: 1, etaSeconds: 0, editKey: result.key}),
				(error: unknown) => {
					const message = this.abort.signal.aborted ? 'The FateZero job server stopped before the job finished; start "fatezero studio" again to resume it from the cached stages.' : error instanceof Error ? error.message : String(error);
					this.update(key, {status: 'failed', error: message, etaSeconds: null});
				},
			)
			.finally(() => this.running.delete(run));
		this.running.add(run);
		this.emit(entry.state);
		return entry.state;
	}

	get(key: string): StudioJobState | null {
		return this.entries.get(key)?.state ?? null;
	}

	list(): StudioJobState[] {
		return [...this.entries.values()].map((entry) => entry.state);
	}

	/** The image file of a job's preview, once it exists. */
	previewFile(key: string): string | null {
		const file = this.entries.get(key)?.previewFile ?? null;
		return file && existsSync(file) ? file : null;
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

	private onProgress(event: JobProgress) {
		const key = this.byShortKey.get(event.job);
		const entry = key ? this.entries.get(key) : undefined;
		if (!key || !entry || entry.state.status === 'done' || entry.state.status === 'failed') return;
		this.update(key, {status: 'running', stage: event.stage, step: event.step, total: event.total, etaSeconds: event.etaSeconds});
	}

	private refreshPreview(key: string) {
		const entry = this.entries.get(key);
		if (entry && !entry.state.previewUrl && this.previewFile(key)) this.update(key, {previewUrl: this.options.previewUrl(key)});
	}

	private update(key: string, change: Partial<StudioJobState>) {
		const entry = this.entries.get(key);
		if (!entry) return;
		entry.state = {...entry.state, ...change, updatedAt: new Date().toISOString()};
		if (!entry.state.previewUrl && entry.previewFile && existsSync(entry.previewFile)) entry.state.previewUrl = this.options.previewUrl(key);
		this.emit(entry.state);
	}

	private emit(state: StudioJobState) {
		for (const listener of this.listeners) listener(state);
	}
}
