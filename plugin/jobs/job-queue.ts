import PQueue from 'p-queue';
import {EnginePool} from './engine-pool.js';
import type {OnJobProgress} from './job-progress.js';
import type {OnJobPreview} from './live-preview.js';
import {runClipJob, type ClipJobResult} from './run-clip-job.js';
import type {ExecutionProviderName} from '../runtime/session-spec.js';
import type {ComputeType, Setting} from '../project/project-settings.js';

export type JobQueueOptions = {
	cacheDir: string;
	projectRoot?: string;
	executionProvider?: ExecutionProviderName;
	computeType?: ComputeType;
	/** ORT intra-op threads; default every core. */
	threads?: number | null;
	/** The configured model for clips that name none; default the project settings (an error when none). */
	model?: Pick<Setting<string | null>, 'value' | 'origin'>;
	/** Remotion's public dir: finished clips are published into its fatezero/ subfolder. */
	publicDir?: string | null;
	/** Engine jobs at once per device. Default 1: one job already uses every core (or the GPU). */
	engineConcurrency?: number;
	memoryBudgetInMegabytes?: number;
	onProgress?: OnJobProgress;
	/** Live previews of every job (see ClipJobOptions.onPreview). */
	onPreview?: OnJobPreview;
};

/**
 * Clip jobs on a p-queue sized to the device, sharing one engine pool. Jobs that share a source
 * or an inversion wait for it instead of recomputing it (the cache's compute-once), and identical
 * descriptors asked twice run once.
 */
export class JobQueue {
	private readonly queue: PQueue;
	private readonly pool: EnginePool;
	private readonly pending = new Map<string, Promise<ClipJobResult>>();

	constructor(private readonly options: JobQueueOptions) {
		this.queue = new PQueue({concurrency: options.engineConcurrency ?? 1});
		this.pool = new EnginePool({cacheDir: options.cacheDir, executionProvider: options.executionProvider, computeType: options.computeType, intraOpThreads: options.threads ?? undefined});
	}

	/** Queues a clip descriptor; resolves when its edited frames are published (or were cached). */
	add(descriptor: unknown, options: {signal?: AbortSignal; id?: string} = {}): Promise<ClipJobResult> {
		const id = options.id ?? JSON.stringify(descriptor);
		const existing = this.pending.get(id);
		if (existing) return existing;
		const job = this.queue
			.add(
				() =>
					runClipJob({
						descriptor,
						cacheDir: this.options.cacheDir,
						projectRoot: this.options.projectRoot,
						pool: this.pool,
						model: this.options.model,
						publicDir: this.options.publicDir,
						computeType: this.options.computeType,
						memoryBudgetInMegabytes: this.options.memoryBudgetInMegabytes,
						onProgress: this.options.onProgress,
						onPreview: this.options.onPreview,
						signal: options.signal,
					}),
				{signal: options.signal},
			)
			.finally(() => this.pending.delete(id)) as Promise<ClipJobResult>;
		this.pending.set(id, job);
		return job;
	}

	/** Waits for every queued job, then releases the engines. */
	async close(): Promise<void> {
		await this.queue.onIdle();
		await this.pool.dispose();
	}
}
