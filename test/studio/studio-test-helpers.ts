import {mkdtempSync, realpathSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterAll} from 'vitest';

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
