import {mkdtempSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {resolveCompositorBinaries} from '../../plugin/media/compositor-binaries.js';
import {decodeVideoFrames} from '../../plugin/media/decode-video-frames.js';
import {importSource} from '../../plugin/media/import-source.js';
import {probeVideo} from '../../plugin/media/probe-video.js';
import {encodeClip, encodeVariableRateClip, ffmpeg, indexFrame, readFrameIndex, writeIndexFrames, CLIP_HEIGHT, CLIP_WIDTH} from './synthetic-clip.js';

// Frame index correctness: every clip here is made of frames that carry their own index, so a
// selection can be checked frame by frame (frame k of the result must be source frame start + k·stride).
const root = mkdtempSync(path.join(os.tmpdir(), 'fatezero-media-indices-'));
const framesDir = path.join(root, 'frames');
const clips = {mp4: '', webm: '', mov: '', mkv: '', vfr: '', rotated: ''};
const SIZE = 32;

beforeAll(async () => {
	await writeIndexFrames(framesDir, 30);
	clips.mp4 = await encodeClip(framesDir, path.join(root, 'index.mp4'), {fps: 30, codec: 'h264'});
	clips.webm = await encodeClip(framesDir, path.join(root, 'index.webm'), {fps: 30, codec: 'vp9'});
	clips.mov = await encodeClip(framesDir, path.join(root, 'index.mov'), {fps: 30, codec: 'prores'});
	// Matroska keeps absolute timestamps: this one starts at 2.5 s, so seeks must be measured from the start time.
	clips.mkv = await encodeClip(framesDir, path.join(root, 'offset.mkv'), {fps: 30, codec: 'h264', extra: ['-output_ts_offset', '2.5']});
	clips.vfr = await encodeVariableRateClip(framesDir, root);
	clips.rotated = path.join(root, 'rotated.mp4');
	await ffmpeg(['-display_rotation', '90', '-i', clips.mp4, '-c', 'copy', clips.rotated]);
});
afterAll(() => rmSync(root, {recursive: true, force: true}));

const indicesOf = (imported: {pixels: Float32Array; count: number}, size = SIZE): number[] =>
	Array.from({length: imported.count}, (_, k) => readFrameIndex(imported.pixels, k, size));

describe('synthetic index frames', () => {
	it('decode back to their index from the PNG folder', async () => {
		const imported = await importSource({source: framesDir, size: SIZE});
		expect(indicesOf(imported)).toEqual(Array.from({length: 30}, (_, i) => i));
		expect(imported.selectedFiles?.map((f) => path.basename(f))[29]).toBe('00029.png');
	});
});

describe('stride selections pick source frame start + k·stride', () => {
	const selections = [
		{start: 0, count: 30, stride: 1},
		{start: 7, count: 5, stride: 3},
		{start: 13, count: 4, stride: 5},
		{start: 1, count: 8, stride: 4},
		{start: 29, count: 1, stride: 1},
		{start: 9, stride: 10},
	];
	for (const kind of ['mp4', 'webm', 'mov', 'folder'] as const) {
		it(`in a ${kind === 'folder' ? 'PNG folder' : `${kind} clip`}`, async () => {
			for (const frames of selections) {
				const source = kind === 'folder' ? framesDir : clips[kind];
				const imported = await importSource({source, size: SIZE, frames});
				const expected = Array.from({length: imported.count}, (_, k) => frames.start + k * frames.stride);
				expect(imported.selectedSourceFrames, JSON.stringify(frames)).toEqual(expected);
				expect(indicesOf(imported), `${kind} ${JSON.stringify(frames)}`).toEqual(expected);
			}
		});
	}

	it('from every start frame of the mp4 (each one a seek between keyframes, B-frames on)', async () => {
		const seen: number[] = [];
		for (let start = 0; start < 30; start++) {
			const imported = await importSource({source: clips.mp4, size: SIZE, frames: {start, count: 1}});
			seen.push(readFrameIndex(imported.pixels, 0, SIZE));
		}
		expect(seen).toEqual(Array.from({length: 30}, (_, i) => i));
	});

	it('the same whether ffmpeg seeks (-ss) or decodes from the start and trims, in mp4, webm, mov and mkv', async () => {
		const {ffmpeg: ffmpegPath, ffprobe} = resolveCompositorBinaries();
		for (const kind of ['mp4', 'webm', 'mov', 'mkv'] as const) {
			const probe = await probeVideo(ffprobe, clips[kind]);
			for (const firstFrame of [1, 9, 10, 17, 29]) {
				for (const frameTimes of [probe.frameTimes, null]) {
					const got: number[] = [];
					const frameCount = Math.min(6, 30 - firstFrame);
					const result = await decodeVideoFrames({
						ffmpeg: ffmpegPath,
						file: clips[kind],
						width: probe.width,
						height: probe.height,
						firstFrame,
						frameCount,
						frameTimes,
						onFrame: (sourceIndex, rgb) => {
							// Band b's bit lives in the green channel of row 8b + 4.
							let index = 0;
							for (let band = 1; band < 8; band++) if (rgb[((band * 8 + 4) * CLIP_WIDTH + 48) * 3 + 1] > 128) index |= 1 << (band - 1);
							got.push(index === sourceIndex ? index : -index - 1000);
						},
					});
					const label = `${kind} from ${firstFrame} by ${result.method}`;
					expect(result.method, label).toBe(frameTimes ? 'seek' : 'trim');
					expect(result.decoded, label).toBe(frameCount);
					expect(got, label).toEqual(Array.from({length: frameCount}, (_, k) => firstFrame + k));
				}
			}
		}
	});
});

describe('fps selections pick the source frame nearest to start/fps_source + k/fps', () => {
	it('30 → 12 fps (halves round up), 30 → 10 fps (every 3rd), 30 → 60 fps (frames repeat)', async () => {
		const to12 = await importSource({source: clips.mp4, size: SIZE, frames: {start: 1, fps: 12}});
		expect(to12.selectedSourceFrames).toEqual([1, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 29]);
		expect(indicesOf(to12)).toEqual(to12.selectedSourceFrames);

		const to10 = await importSource({source: clips.mp4, size: SIZE, frames: {fps: 10}});
		expect(to10.selectedSourceFrames).toEqual([0, 3, 6, 9, 12, 15, 18, 21, 24, 27]);
		expect(indicesOf(to10)).toEqual(to10.selectedSourceFrames);

		const to60 = await importSource({source: clips.webm, size: SIZE, frames: {start: 2, count: 6, fps: 60}});
		expect(to60.selectedSourceFrames).toEqual([2, 3, 3, 4, 4, 5]);
		expect(indicesOf(to60)).toEqual(to60.selectedSourceFrames);
	});

	it('use frame times on a variable-rate video (10 fps then 30 fps)', async () => {
		const probe = await importSource({source: clips.vfr, size: SIZE, frames: {count: 1}});
		expect(probe.sourceInfo.frameCount).toBe(20);
		const byFps = await importSource({source: clips.vfr, size: SIZE, frames: {fps: 10}});
		// 0.0 … 0.9 s hit frames 0…9; then 1.0, 1.1, 1.2, 1.3 s hit 10, 13, 16, 19 (30 fps part).
		expect(byFps.selectedSourceFrames).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 16, 19]);
		expect(indicesOf(byFps)).toEqual(byFps.selectedSourceFrames);
	});
});

describe('variable frame rate', () => {
	it('keeps every frame of a variable-rate video (no duplicates or drops shift the indices)', async () => {
		const all = await importSource({source: clips.vfr, size: SIZE});
		expect(all.count).toBe(20);
		expect(indicesOf(all)).toEqual(Array.from({length: 20}, (_, i) => i));
		const strided = await importSource({source: clips.vfr, size: SIZE, frames: {start: 5, count: 7, stride: 2}});
		expect(indicesOf(strided)).toEqual([5, 7, 9, 11, 13, 15, 17]);
	});
});

describe('containers', () => {
	it('report codec, size, rate and frame count for mp4/H.264, webm/VP9 and mov/ProRes', async () => {
		for (const [kind, codec] of [
			['mp4', 'h264'],
			['webm', 'vp9'],
			['mov', 'prores'],
		] as const) {
			const {sourceInfo} = await importSource({source: clips[kind], size: SIZE, frames: {count: 1}});
			expect(sourceInfo, kind).toMatchObject({kind: 'video', width: CLIP_WIDTH, height: CLIP_HEIGHT, fps: 30, frameCount: 30, codec});
			expect(sourceInfo.durationInSeconds, kind).toBeCloseTo(1, 1);
		}
	});

	it('apply a rotation flag as players do (a 96×64 clip turned 90° is 64×96)', async () => {
		const imported = await importSource({source: clips.rotated, size: 64, frames: {start: 5, count: 1}});
		expect(imported.sourceInfo).toMatchObject({width: CLIP_HEIGHT, height: CLIP_WIDTH});
		// The bands now run vertically: the red marker band is a column strip at one side.
		const plane = 64 * 64;
		const column = (x: number) => [0, 1, 2].map((c) => imported.pixels[c * plane + 32 * 64 + x]);
		const red = (v: number[]) => v[0] > 0.5 && v[1] < -0.5 && v[2] < -0.5;
		expect(red(column(3)) || red(column(60))).toBe(true);
		expect(red(column(32))).toBe(false);
	});
});

it('index frames are what the helper says (sanity check of the test itself)', () => {
	const frame = indexFrame(0b1010101);
	expect([...frame.subarray(0, 3)]).toEqual([230, 25, 25]);
	expect(frame[(12 * CLIP_WIDTH) * 3 + 1]).toBe(230); // band 1 = bit 0 set
	expect(frame[(20 * CLIP_WIDTH) * 3 + 1]).toBe(25); // band 2 = bit 1 clear
});
