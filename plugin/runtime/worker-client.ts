import type {Worker} from 'node:worker_threads';
import {FateZeroError} from '../errors/fatezero-error.js';
import {startInferenceWorker} from './start-inference-worker.js';
import {deserializeError, type WorkerReply, type WorkerRequest} from './worker-protocol.js';

// Omit over a union must distribute, or the request kinds collapse into one shape.
type RequestBody = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never;

export type CallOptions = {
	/** Names the call in errors, e.g. 'the run of the "unet" session'. */
	describe: string;
	transfer?: ArrayBuffer[];
	signal?: AbortSignal;
};

type Job = {
	body: RequestBody;
	options: CallOptions;
	settled: boolean;
	resolve(value: unknown): void;
	reject(error: unknown): void;
	cleanup(): void;
};

/**
 * The main-thread end of the inference worker: a FIFO of calls sent one at a time. Queuing here
 * rather than in the worker lets a call that is aborted or disposed while waiting be dropped
 * before it starts (the worker cannot read messages while ORT runs).
 *
 * Never terminate the worker while ORT is inside a call: onnxruntime-node (1.31.1, as 1.30 before
 * it) then aborts the whole process ("terminate called after throwing an instance of
 * 'Napi::Error'"), and so does process exit. So close() waits for the call in flight, and the
 * worker is ref'ed while busy.
 */
export class WorkerClient {
	private readonly queue: Job[] = [];
	private inFlight: {id: number; job: Job} | undefined;
	private nextId = 1;
	private state: 'open' | 'closing' | 'closed' | 'crashed' = 'open';
	private lastError: Error | undefined;
	private closing: Promise<void> | undefined;

	private constructor(private readonly worker: Worker) {
		worker.on('message', (reply: WorkerReply) => this.onReply(reply));
		worker.on('error', (error) => (this.lastError = error));
		worker.on('exit', (code) => this.onExit(code));
		worker.unref();
	}

	/** Starts the thread and waits until it has loaded ORT. */
	static async start(): Promise<WorkerClient> {
		const worker = startInferenceWorker();
		await new Promise<void>((resolve, reject) => {
			const fail = (why: string) => {
				worker.off('message', onMessage);
				reject(
					new FateZeroError(
						'INFERENCE_FAILED',
						`The inference worker could not start: ${why}. Check that onnxruntime-node is installed (and tsx, when running from TypeScript sources).`,
					),
				);
			};
			const onMessage = (m: WorkerReply) => {
				if (m.kind !== 'ready') return;
				worker.off('error', onError).off('exit', onExit);
				resolve();
			};
			const onError = (error: Error) => fail(error.message);
			const onExit = (code: number) => fail(`the thread exited with code ${code} before it was ready`);
			worker.on('message', onMessage).once('error', onError).once('exit', onExit);
		});
		return new WorkerClient(worker);
	}

	/** Sends one request after the ones before it; rejects with the worker's FateZeroError. */
	call<T>(body: RequestBody, options: CallOptions): Promise<T> {
		if (this.state !== 'open') return Promise.reject(this.closedError(options.describe));
		if (options.signal?.aborted) {
			return Promise.reject(new FateZeroError('ABORTED', `${capitalize(options.describe)} was aborted before it started.`));
		}
		return this.enqueue(body, options) as Promise<T>;
	}

	/** Rejects waiting and running calls, releases the sessions, then ends the thread. */
	close(): Promise<void> {
		this.closing ??= (async () => {
			if (this.state !== 'open') return;
			this.state = 'closing';
			for (const job of this.queue.splice(0)) this.settle(job, this.disposedError(job, false));
			if (this.inFlight) this.settle(this.inFlight.job, this.disposedError(this.inFlight.job, true));
			try {
				// Queued behind the call in flight, if any: ORT cannot interrupt it.
				await this.enqueue({kind: 'shutdown'}, {describe: 'releasing the sessions'});
			} catch {
				// The worker died meanwhile: nothing left to release.
			}
			if (this.state === 'closing') {
				this.state = 'closed';
				await this.worker.terminate();
			}
		})();
		return this.closing;
	}

	private enqueue(body: RequestBody, options: CallOptions): Promise<unknown> {
		return new Promise((resolve, reject) => {
			const onAbort = () => this.abort(job);
			const job: Job = {
				body,
				options,
				settled: false,
				resolve,
				reject,
				cleanup: () => options.signal?.removeEventListener('abort', onAbort),
			};
			options.signal?.addEventListener('abort', onAbort, {once: true});
			this.queue.push(job);
			this.pump();
		});
	}

	private pump(): void {
		if (!this.inFlight && (this.state === 'open' || this.state === 'closing')) {
			const job = this.queue.shift();
			if (job) {
				const id = this.nextId++;
				this.inFlight = {id, job};
				this.worker.postMessage({...job.body, id}, job.options.transfer ?? []);
			}
		}
		// Keep the process alive only while the worker works: an idle worker must not prevent
		// exit, and exiting while ORT runs in it would abort the process.
		if (this.inFlight) this.worker.ref();
		else this.worker.unref();
	}

	private abort(job: Job): void {
		const waiting = this.queue.indexOf(job);
		if (waiting >= 0) {
			this.queue.splice(waiting, 1);
			this.settle(job, new FateZeroError('ABORTED', `${capitalize(job.options.describe)} was aborted before it started.`));
		} else {
			this.settle(
				job,
				new FateZeroError(
					'ABORTED',
					`${capitalize(job.options.describe)} was aborted while running; ORT cannot interrupt a run, so the worker finishes it and discards the result.`,
				),
			);
		}
	}

	private settle(job: Job, error: Error | undefined, value?: unknown): void {
		if (job.settled) return;
		job.settled = true;
		job.cleanup();
		if (error) job.reject(error);
		else job.resolve(value);
	}

	private onReply(reply: WorkerReply): void {
		if (reply.kind !== 'reply' || reply.id !== this.inFlight?.id) return;
		const {job} = this.inFlight;
		this.inFlight = undefined;
		if (reply.ok) this.settle(job, undefined, reply.value);
		else this.settle(job, deserializeError(reply.error));
		this.pump();
	}

	private onExit(code: number): void {
		if (this.state === 'closed') return;
		this.state = 'crashed';
		const why = `exit code ${code}${this.lastError ? `, ${this.lastError.message}` : ''}`;
		const running = this.inFlight?.job.options.describe ?? 'nothing';
		const advice = 'Its sessions are gone: create a new runtime with createInferenceRuntime().';
		if (this.inFlight) {
			this.settle(this.inFlight.job, new FateZeroError('INFERENCE_FAILED', `The inference worker stopped (${why}) while running ${running}. ${advice}`));
			this.inFlight = undefined;
		}
		for (const job of this.queue.splice(0)) {
			this.settle(
				job,
				new FateZeroError(
					'INFERENCE_FAILED',
					`The inference worker stopped (${why}) while running ${running}, before ${job.options.describe} could start. ${advice}`,
				),
			);
		}
	}

	private disposedError(job: Job, running: boolean): FateZeroError {
		const detail = running
			? ' ORT cannot interrupt a run: the worker finishes it, discards the result, then exits.'
			: ' It never started.';
		return new FateZeroError('SESSION_DISPOSED', `The inference runtime was disposed while ${job.options.describe} was ${running ? 'running' : 'waiting'}.${detail}`);
	}

	private closedError(describe: string): FateZeroError {
		return this.state === 'crashed'
			? new FateZeroError('INFERENCE_FAILED', `Cannot start ${describe}: the inference worker has stopped. Create a new runtime with createInferenceRuntime().`)
			: new FateZeroError('SESSION_DISPOSED', `Cannot start ${describe}: the inference runtime was disposed. Create a new one with createInferenceRuntime().`);
	}
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
