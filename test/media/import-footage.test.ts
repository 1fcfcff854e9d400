import path from 'node:path';
import sharp from 'sharp';
import {describe, expect, it} from 'vitest';
import {importSource, type ImportedSource} from '../../plugin/media/import-source.js';
import {psnr} from '../../plugin/media/psnr.js';
import {footageDir, GoldenFile, hasFootage, hasGolden, maxAbsDiff} from '../helpers/golden.js';

const carMp4 = path.join(footageDir, 'car-turn.mp4');
const carFolder = path.join(footageDir, 'car-turn');
const skipReason = `footage not found at ${footageDir}: real-footage import tests skipped`;
if (!hasFootage) console.warn(skipReason);

const perFrame = (label: string, imported: ImportedSource): void => {
	const {total, probe, decode} = imported.timingsMs;
	console.log(
		`import ${label}: ${imported.count} frames at ${imported.size}² in ${total.toFixed(0)} ms = ${(total / imported.count).toFixed(1)} ms/frame (probe ${probe.toFixed(0)} ms, decode+resize ${decode.toFixed(0)} ms)`,
	);
};

/** Frames must be finite, inside [-1, 1], and the 8-bit copy must be their rounding. */
const checkConsistent = (imported: ImportedSource): void => {
	const {pixels, rgb8, count, size} = imported;
	expect(pixels.length).toBe(count * 3 * size * size);
	expect(rgb8).toHaveLength(count);
	let min = Infinity;
	let max = -Infinity;
	for (const v of pixels) {
		min = Math.min(min, v);
		max = Math.max(max, v);
	}
	expect(min).toBeGreaterThanOrEqual(-1);
	expect(max).toBeLessThanOrEqual(1);
	expect(max - min).toBeGreaterThan(1); // a real picture, not a flat frame
	const plane = size * size;
	for (let k = 0; k < count; k++) {
		expect(rgb8[k].length).toBe(plane * 3);
		for (let p = 0; p < plane; p += 997) {
			for (let c = 0; c < 3; c++) expect(Math.abs(rgb8[k][p * 3 + c] - (pixels[k * 3 * plane + c * plane + p] + 1) * 127.5)).toBeLessThanOrEqual(0.5 + 1e-3);
		}
	}
};

describe.skipIf(!hasFootage)('real footage', () => {
	it('car-turn.mp4 → 8 frames at 512 (and at 256)', async () => {
		const imported = await importSource({source: carMp4, frames: {start: 0, count: 8, stride: 1}, size: 512});
		perFrame('car-turn.mp4', imported);
		expect(imported.count).toBe(8);
		expect(imported.size).toBe(512);
		expect(imported.selectedSourceFrames).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
		expect(imported.selectedFiles).toBeNull();
		expect(imported.warnings).toEqual([]);
		expect(imported.sourceInfo).toEqual({kind: 'video', width: 480, height: 480, fps: 10, frameCount: 80, durationInSeconds: 8, codec: 'h264'});
		checkConsistent(imported);

		const small = await importSource({source: carMp4, frames: {start: 0, count: 8}, size: 256});
		perFrame('car-turn.mp4', small);
		expect(small.pixels.length).toBe(8 * 3 * 256 * 256);
		checkConsistent(small);
		// The same frames at two sizes: downscale the 512 import's first frame and compare.
		const down = await sharp(imported.rgb8[0], {raw: {width: 512, height: 512, channels: 3}}).resize(256, 256).raw().toBuffer();
		expect(psnr(down, small.rgb8[0], 255)).toBeGreaterThan(30);
	});

	it('car-turn/ PNG folder → 8 frames at 512, pixel for pixel (512² needs no resize)', async () => {
		const imported = await importSource({source: carFolder, frames: {start: 0, count: 8, stride: 1}, size: 512});
		perFrame('car-turn/ (PNG)', imported);
		expect(imported.sourceInfo).toEqual({kind: 'frames', width: 512, height: 512, fps: null, frameCount: 8, durationInSeconds: null, codec: 'png'});
		expect(imported.selectedFiles?.map((f) => path.basename(f))).toEqual(['00000.png', '00001.png', '00002.png', '00003.png', '00004.png', '00005.png', '00006.png', '00007.png']);
		checkConsistent(imported);
		for (const k of [0, 7]) {
			const png = await sharp(path.join(carFolder, `0000${k}.png`)).removeAlpha().raw().toBuffer();
			expect(imported.rgb8[k].equals(png)).toBe(true);
		}
	});

	it('seeking into the real H.264 (B-frames) gives the same frames as decoding from the start', async () => {
		const all = await importSource({source: carMp4, size: 64});
		expect(all.count).toBe(80);
		const plane = 3 * 64 * 64;
		// start 13 decodes from the start and drops frames (trim); start 51 seeks (-ss) first.
		for (const frames of [
			{start: 13, count: 9, stride: 7},
			{start: 51, count: 5, stride: 7},
			{start: 79, count: 1},
		]) {
			const picked = await importSource({source: carMp4, size: 64, frames});
			for (let k = 0; k < picked.count; k++) {
				const i = picked.selectedSourceFrames[k];
				expect(i).toBe(frames.start + k * (frames.stride ?? 1));
				expect(maxAbsDiff(picked.pixels.subarray(k * plane, (k + 1) * plane), all.pixels.subarray(i * plane, (i + 1) * plane)), `frame ${i}`).toBe(0);
			}
		}
	});

	it('the PNG folder and the mp4 show the same scene in the same order', async () => {
		// Different encodings and framings of the same shot, so only a loose check: each PNG frame's best
		// match among the mp4's frames comes later in the mp4 than the previous PNG frame's.
		const size = 64;
		const folder = await importSource({source: carFolder, size});
		const video = await importSource({source: carMp4, size});
		const plane = 3 * size * size;
		const best = Array.from({length: folder.count}, (_, i) => {
			const scores = Array.from({length: video.count}, (_, j) => psnr(folder.pixels.subarray(i * plane, (i + 1) * plane), video.pixels.subarray(j * plane, (j + 1) * plane), 2));
			return scores.indexOf(Math.max(...scores));
		});
		for (let i = 1; i < best.length; i++) expect(best[i], `best matches ${best.join(',')}`).toBeGreaterThan(best[i - 1]);
	});

	it('man-surfing.mp4 probes as 656×656, 72 frames', async () => {
		const imported = await importSource({source: path.join(footageDir, 'man-surfing.mp4'), frames: {start: 64, count: 8}, size: 128});
		expect(imported.sourceInfo).toMatchObject({width: 656, height: 656, frameCount: 72, codec: 'h264'});
		checkConsistent(imported);
	});
});

describe.skipIf(!hasFootage || !hasGolden)('parity with the official preprocessing', () => {
	it("car-turn frames 0-1 at 128 equal ImageSequenceDataset's output (golden vae input)", async () => {
		const golden = new GoldenFile('components/vae.safetensors').float('input');
		expect(golden.shape).toEqual([2, 3, 128, 128]);
		const imported = await importSource({source: carFolder, frames: {count: 2}, size: 128});
		// float32 rounding only: the resize is the same antialiased bilinear filter as F.interpolate's.
		expect(maxAbsDiff(imported.pixels, golden.data)).toBeLessThan(1e-6);
	});
});
