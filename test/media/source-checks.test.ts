import {execFileSync} from 'node:child_process';
import {closeSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {isFateZeroError} from '../../plugin/errors/fatezero-error.js';
import {hashSourceContent} from '../../plugin/media/hash-source-content.js';
import {importSource} from '../../plugin/media/import-source.js';
import {encodeClip, writeIndexFrames} from './synthetic-clip.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'fatezero-source-checks-'));
afterAll(() => rmSync(root, {recursive: true, force: true}));

// Without the check these hash forever; the race turns a hang into a failure instead of a stuck run.
const refusedWithin = async (source: string, ms = 5_000): Promise<Error> => {
	const outcome = await Promise.race([
		hashSourceContent(source).then(
			() => new Error('hashed'),
			(error: unknown) => error as Error,
		),
		new Promise<Error>((resolve) => setTimeout(() => resolve(new Error(`still hashing after ${ms} ms`)), ms).unref()),
	]);
	return outcome;
};

describe('sources: only regular files and folders (issue 16)', () => {
	it.skipIf(process.platform === 'win32')('a FIFO is refused before hashing, naming what it is', async () => {
		const fifo = path.join(root, 'stream.mp4');
		execFileSync('mkfifo', [fifo]);
		const error = await refusedWithin(fifo);
		expect(isFateZeroError(error, 'INVALID_INPUT'), error.message).toBe(true);
		expect(error.message).toMatch(/stream\.mp4 is a named pipe \(FIFO\), not a regular file or a folder/);
	});

	it.skipIf(process.platform === 'win32')('/dev/zero (and a link to it named like a video) is refused before hashing', async () => {
		const error = await refusedWithin('/dev/zero');
		expect(isFateZeroError(error, 'INVALID_INPUT'), error.message).toBe(true);
		expect(error.message).toMatch(/\/dev\/zero is a character device/);
		const link = path.join(root, 'zero.mp4');
		execFileSync('ln', ['-s', '/dev/zero', link]);
		expect((await refusedWithin(link)).message).toMatch(/zero\.mp4 is a character device/);
	});

	it('regular files and folders still hash', async () => {
		const file = path.join(root, 'a.mp4');
		writeFileSync(file, 'bytes');
		expect(await hashSourceContent(file)).toMatch(/^[0-9a-f]{64}$/);
	});
});

describe('truncated videos warn even when the selection fits (issue 16)', () => {
	let cutClip = '';
	beforeAll(async () => {
		const frames = path.join(root, 'frames');
		mkdirSync(frames);
		await writeIndexFrames(frames, 30);
		const clip = await encodeClip(frames, path.join(root, 'clip.mp4'), {fps: 30, codec: 'h264', extra: ['-movflags', '+faststart']});
		const bytes = Math.floor(statSync(clip).size * 0.6);
		const buffer = Buffer.alloc(bytes);
		const fd = openSync(clip, 'r');
		readSync(fd, buffer, 0, bytes, 0);
		closeSync(fd);
		cutClip = path.join(root, 'clip-cut.mp4');
		writeFileSync(cutClip, buffer);
	});

	it('passes the warning to onWarning', async () => {
		const warnings: string[] = [];
		const imported = await importSource({source: cutClip, size: 32, frames: {count: 2}, onWarning: (message) => warnings.push(message)});
		expect(imported.count).toBe(2);
		expect(warnings).toEqual([expect.stringMatching(/clip-cut\.mp4 looks truncated: only \d+ of the 30 frames its header declares can be read/)]);
	});

	it('without onWarning, emits a process warning (printed on stderr) instead of dropping it', async () => {
		const seen: Error[] = [];
		const listener = (warning: Error) => seen.push(warning);
		process.on('warning', listener);
		try {
			await importSource({source: cutClip, size: 32, frames: {count: 2}});
			await new Promise((resolve) => setImmediate(resolve));
		} finally {
			process.off('warning', listener);
		}
		expect(seen.map((w) => w.message)).toEqual([expect.stringMatching(/clip-cut\.mp4 looks truncated/)]);
		expect((seen[0] as Error & {code?: string}).code).toBe('FATEZERO_SOURCE_WARNING');
	});
});
