import {mkdtempSync, realpathSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterAll} from 'vitest';
import type {OnJobProgress} from '../../plugin/jobs/job-progress.js';
import type {ClipJobResult} from '../../plugin/jobs/run-clip-job.js';
import type {StudioJobsOptions, StudioPreviewEvent} from '../../plugin/studio/studio-jobs.js';

/** A fresh folder under the OS temp dir (real path), removed after the file's tests. */
export const tempWorkspace = (label: string): string => {
	const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), `fatezero-${label}-`)));
	afterAll(() => rmSync(dir, {recursive: true, force: true}));
	return dir;
};

export {writeFrames} from '../helpers/synthetic-frames.js';

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs` with `what`. */
export const waitFor = async <T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, intervalMs = 100): Promise<T> => {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await probe();
		if (value !== undefined) return value;
		if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, intervalMs));
	}
};

/** A job the scripted queue holds: the test resolves, rejects or watches its signal. */
export type ScriptedJob = {id: string; signal?: AbortSignal; resolve: (result: ClipJobResult) => void; reject: (error: unknown) => void};

/**
 * A job queue standing in for the engine (the job server's createQueue): every job added is pushed
 * onto `jobs` and settles only when the test says so, or rejects when its signal aborts. The
 * server's progress and preview callbacks go to `hooks`.
 */
export const scriptedQueue =
	(jobs: ScriptedJob[], hooks: {onProgress?: (callback: OnJobProgress) => void; onPreview?: (callback: (event: StudioPreviewEvent) => void) => void} = {}): NonNullable<StudioJobsOptions['createQueue']> =>
	(onProgress, onPreview) => {
		hooks.onProgress?.(onProgress);
		hooks.onPreview?.(onPreview);
		return {
			add: (_descriptor, options) =>
				new Promise<ClipJobResult>((resolve, reject) => {
					jobs.push({id: options.id ?? '', signal: options.signal, resolve, reject});
					options.signal?.addEventListener('abort', () => reject(options.signal?.reason));
				}),
			close: async () => undefined,
		};
	};

/** The latest scripted job of `key` (a retried key has several). */
export const lastJob = (jobs: ScriptedJob[], key: string): ScriptedJob => jobs.filter((j) => j.id === key).at(-1)!;
