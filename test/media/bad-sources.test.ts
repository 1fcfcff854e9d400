import {closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {isFateZeroError, type FateZeroErrorCode} from '../../plugin/errors/fatezero-error.js';
import {importSource, type ImportSourceOptions} from '../../plugin/media/import-source.js';
import {footageDir, hasFootage} from '../helpers/golden.js';
import {encodeClip, writeIndexFrames} from './synthetic-clip.js';

// Every bad source must fail with a FateZeroError that names the file and says what to do, and
// importing must write nothing (everything here lives in `root`, whose listing is checked at the end).
const root = mkdtempSync(path.join(os.tmpdir(), 'fatezero-media-bad-'));
afterAll(() => rmSync(root, {recursive: true, force: true}));

const listing = (dir: string): string[] =>
	readdirSync(dir, {recursive: true, withFileTypes: true})
		.map((d) => `${path.relative(dir, path.join(d.parentPath, d.name))}:${d.isFile() ? statSync(path.join(d.parentPath, d.name)).size : 'dir'}`)
		.sort();

/** Copies the first `bytes` bytes of `from` to `to`. */
const cut = (from: string, to: string, bytes: number): string => {
	const buffer = Buffer.alloc(bytes);
	const fd = openSync(from, 'r');
	const read = readSync(fd, buffer, 0, bytes, 0);
	closeSync(fd);
	writeFileSync(to, buffer.subarray(0, read));
	return to;
};

const failure = async (options: ImportSourceOptions, code: FateZeroErrorCode, ...patterns: RegExp[]): Promise<string> => {
	const error = await importSource(options).then(
		() => null,
		(e: unknown) => e,
	);
	expect(error, `${JSON.stringify(options)} should fail`).not.toBeNull();
	expect(isFateZeroError(error, code), `expected ${code}, got ${String(error)}`).toBe(true);
	const message = (error as Error).message;
	for (const pattern of patterns) expect(message).toMatch(pattern);
	return message;
};

const frames = path.join(root, 'frames');
let clip = '';
let before: string[] = [];

beforeAll(async () => {
	await writeIndexFrames(frames, 30);
	// +faststart puts the index (moov) first, as in car-turn.mp4, so a cut file still probes.
	clip = await encodeClip(frames, path.join(root, 'clip.mp4'), {fps: 30, codec: 'h264', extra: ['-movflags', '+faststart']});
	mkdirSync(path.join(root, 'empty-folder'));
	mkdirSync(path.join(root, 'notes-only'));
	writeFileSync(path.join(root, 'notes-only', 'notes.txt'), 'no frames here');
	mkdirSync(path.join(root, 'mixed'));
	await sharp({create: {width: 32, height: 32, channels: 3, background: '#808080'}}).png().toFile(path.join(root, 'mixed', '00000.png'));
	await sharp({create: {width: 32, height: 32, channels: 3, background: '#808080'}}).png().toFile(path.join(root, 'mixed', '00001.png'));
	await sharp({create: {width: 48, height: 32, channels: 3, background: '#808080'}}).png().toFile(path.join(root, 'mixed', '00002.png'));
	mkdirSync(path.join(root, 'three'));
	for (let i = 0; i < 3; i++) copyFileSync(path.join(frames, `0000${i}.png`), path.join(root, 'three', `0000${i}.png`));
	mkdirSync(path.join(root, 'corrupt'));
	copyFileSync(path.join(frames, '00000.png'), path.join(root, 'corrupt', '00000.png'));
	writeFileSync(path.join(root, 'corrupt', '00001.png'), 'this is not a PNG');
	writeFileSync(path.join(root, 'zero.mp4'), '');
	writeFileSync(path.join(root, 'text.mp4'), 'Hello, I am a text file pretending to be a video.\n'.repeat(20));
	writeFileSync(path.join(root, 'clip.gif'), 'GIF89a');
	writeFileSync(path.join(root, 'clip.avi.txt'), 'x');
	if (hasFootage) {
		const car = path.join(footageDir, 'car-turn.mp4');
		const size = statSync(car).size;
		cut(car, path.join(root, 'car-half.mp4'), Math.floor(size / 2));
		cut(car, path.join(root, 'car-4k.mp4'), 4096);
		const zeroed = Buffer.from(readFileSync(car));
		zeroed.fill(0, Math.floor(size * 0.6));
		writeFileSync(path.join(root, 'car-zeroed.mp4'), zeroed);
	}
	cut(clip, path.join(root, 'clip-cut.mp4'), Math.floor(statSync(clip).size * 0.6));
	before = listing(root);
});

describe.skipIf(!hasFootage)('truncated car-turn.mp4', () => {
	it('cut in half: the intact frames import, frames past the cut fail with "has only N frames"', async () => {
		const half = path.join(root, 'car-half.mp4');
		// The header (at the front) still declares 80 frames; only the packets before the cut exist,
		// and the last one is cut off (ffprobe flags it corrupt), so it does not count.
		const ok = await importSource({source: half, size: 64, frames: {start: 0, count: 8}});
		expect(ok.count).toBe(8);
		expect(ok.warnings).toEqual([expect.stringMatching(/car-half\.mp4 looks truncated: only \d+ of the 80 frames/)]);
		const readable = ok.sourceInfo.frameCount;
		expect(readable).toBeLessThan(80);
		expect(readable).toBeGreaterThan(30);
		const last = await importSource({source: half, size: 64, frames: {start: readable - 1}});
		expect(last.selectedSourceFrames).toEqual([readable - 1]);
		const message = await failure(
			{source: half, size: 64, frames: {start: 40, count: 8, stride: 2}},
			'INVALID_INPUT',
			/car-half\.mp4/,
			new RegExp(`${readable} readable of the 80 frames its header declares; the file looks truncated`),
			new RegExp(`has only ${readable} frames`),
			/start=40 count=8 stride=2/,
			/needs source frame 54/,
			/fits the complete video/,
		);
		console.log(`truncated mp4: ${message}`);
		// A selection that is too long even for the complete file stays an option error.
		await failure({source: half, size: 64, frames: {start: 70, count: 20}}, 'INVALID_OPTION', /needs source frame 89/);
	});

	it('cut to its first 4 KB: fails cleanly (the header survives, no frame does)', async () => {
		const message = await failure({source: path.join(root, 'car-4k.mp4'), size: 64, frames: {count: 8}}, 'INVALID_INPUT', /car-4k\.mp4 has no readable frames/, /truncated/, /copy or export it again/);
		console.log(`4 KB mp4: ${message}`);
		await failure({source: path.join(root, 'car-4k.mp4'), size: 64}, 'INVALID_INPUT', /car-4k\.mp4 has no readable frames although its header declares 80/);
	});

	it('damaged data (the last 40% zeroed, size kept): frames that do not decode give "has only N decodable frames"', async () => {
		const zeroed = path.join(root, 'car-zeroed.mp4');
		const message = await failure({source: zeroed, size: 64, frames: {start: 0, count: 80}}, 'INVALID_INPUT', /car-zeroed\.mp4 has only \d+ decodable frames although its header declares 80/, /needs source frame 79/, /ffmpeg: /);
		console.log(`damaged mp4: ${message}`);
		await failure({source: zeroed, size: 64, frames: {start: 70, count: 5}}, 'INVALID_INPUT', /decoded only 0 of source frames 70…74, so it has at most 70 decodable frames/);
		const ok = await importSource({source: zeroed, size: 64, frames: {start: 10, count: 8, stride: 4}});
		expect(ok.count).toBe(8);
	});
});

describe('bad sources', () => {
	it('a truncated synthetic mp4 behaves the same way', async () => {
		const source = path.join(root, 'clip-cut.mp4');
		const ok = await importSource({source, size: 32, frames: {count: 2}});
		expect(ok.sourceInfo.frameCount).toBeLessThan(30);
		await failure({source, size: 32, frames: {count: 30}}, 'INVALID_INPUT', /has only \d+ frames/, /truncated/, /fits the complete video/);
	});

	it('a zero-byte file', async () => {
		await failure({source: path.join(root, 'zero.mp4'), size: 32}, 'INVALID_INPUT', /zero\.mp4 is empty \(0 bytes\)/, /export or copy it again/);
	});

	it('a text file named .mp4', async () => {
		await failure({source: path.join(root, 'text.mp4'), size: 32}, 'INVALID_INPUT', /text\.mp4 could not be read/, /ffprobe: .*Invalid data/, /complete, playable/);
	});

	it('a folder with no images (empty, or other files only)', async () => {
		await failure({source: path.join(root, 'empty-folder'), size: 32}, 'INVALID_INPUT', /empty-folder has no \.png\/\.jpg\/\.jpeg files: it is empty/);
		await failure({source: path.join(root, 'notes-only'), size: 32}, 'INVALID_INPUT', /notes-only has no .*notes\.txt/, /00000\.png/);
	});

	it('a folder with mixed frame sizes names two files and their sizes', async () => {
		await failure({source: path.join(root, 'mixed'), size: 32}, 'INVALID_INPUT', /00000\.png is 32×32 but 00002\.png is 48×32/, /1 of 3 frames/, /expects one size/);
	});

	it('a frame that is not an image', async () => {
		await failure({source: path.join(root, 'corrupt'), size: 32}, 'INVALID_INPUT', /00001\.png is not a readable PNG\/JPEG image/);
	});

	it('fewer frames than requested says how many there are and what was asked', async () => {
		await failure({source: path.join(root, 'three'), size: 32, frames: {count: 5}}, 'INVALID_OPTION', /start=0 count=5 stride=1/, /needs source frame 4/, /has only 3 frames/, /At most 3 frames fit/);
		await failure({source: path.join(root, 'three'), size: 32, frames: {start: 1, count: 2, stride: 2}}, 'INVALID_OPTION', /needs source frame 3/, /At most 1 frame fit from start=1/);
		await failure({source: path.join(root, 'three'), size: 32, frames: {start: 3}}, 'INVALID_OPTION', /start=3 is past the last frame \(index 2\)/);
		await failure({source: clip, size: 32, frames: {start: 10, count: 100}}, 'INVALID_OPTION', /clip\.mp4 \(h264, 96×64, 30 fps\) has only 30 frames/, /At most 20 frames fit/);
		await failure({source: clip, size: 32, frames: {start: 20, count: 10, fps: 10}}, 'INVALID_OPTION', /fps=10/, /has only 30 frames/, /lower frames\.count or frames\.fps/);
	});

	it('a path that does not exist', async () => {
		await failure({source: path.join(root, 'nope.mp4'), size: 32}, 'INVALID_INPUT', /nope\.mp4 does not exist/);
		await failure({source: path.join(root, 'nope-folder'), size: 32}, 'INVALID_INPUT', /nope-folder does not exist/);
	});

	it('an unsupported extension, or a single image', async () => {
		await failure({source: path.join(root, 'clip.gif'), size: 32}, 'INVALID_INPUT', /unsupported extension "\.gif"/, /\.mp4, \.m4v, \.mov, \.webm, \.mkv/);
		await failure({source: path.join(root, 'clip.avi.txt'), size: 32}, 'INVALID_INPUT', /unsupported extension "\.txt"/);
		await failure({source: path.join(frames, '00000.png'), size: 32}, 'INVALID_INPUT', /is a single image/, /folder/);
	});

	it('bad selections and options', async () => {
		await failure({source: frames, size: 32, frames: {fps: 10}}, 'INVALID_OPTION', /frames\.fps=10 needs the source's frame rate/, /frames\.stride/);
		await failure({source: clip, size: 32, frames: {fps: 10, stride: 2} as never}, 'INVALID_OPTION', /both stride=2 and fps=10/);
		await failure({source: clip, size: 32, frames: {count: 0}}, 'INVALID_OPTION', /frames\.count is 0/);
		await failure({source: clip, size: 32, frames: {start: -1}}, 'INVALID_OPTION', /frames\.start is -1/);
		await failure({source: clip, size: 32, frames: {stride: 1.5}}, 'INVALID_OPTION', /frames\.stride is 1\.5/);
		await failure({source: clip, size: 32, frames: {fps: 0}}, 'INVALID_OPTION', /frames\.fps is 0/);
		await failure({source: '', size: 32}, 'INVALID_INPUT', /source is ""/);
	});

	it('no ffmpeg: a clear error naming what to install', async () => {
		await failure({source: clip, size: 32, binariesDirectory: path.join(root, 'empty-folder')}, 'MEDIA_TOOLS_MISSING', /ffmpeg is missing/, /compositor/);
	});

	it('an aborted import stops ffmpeg and says so', async () => {
		const controller = new AbortController();
		controller.abort();
		await failure({source: clip, size: 32, signal: controller.signal}, 'ABORTED', /aborted/);
	});

	it('wrote nothing (the temp folder holds only what the tests made)', () => {
		expect(listing(root)).toEqual(before);
	});
});
