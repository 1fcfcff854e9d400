import {mkdirSync, mkdtempSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {isFateZeroError} from '../../plugin/errors/fatezero-error.js';
import {antialiasBilinearTaps} from '../../plugin/media/antialias-bilinear-taps.js';
import {shortSideTarget} from '../../plugin/media/fatezero-frame-transform.js';
import {importSource} from '../../plugin/media/import-source.js';
import {encodeClip, writeIndexFrames} from './synthetic-clip.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'fatezero-media-crop-'));
afterAll(() => rmSync(root, {recursive: true, force: true}));

/** A 100×60 frame: 30 blue columns on the left, 10 red on the right, green between, a 5-row white top strip. */
const zonesFrame = (): Buffer => {
	const w = 100;
	const h = 60;
	const rgb = Buffer.alloc(w * h * 3);
	for (let y = 0; y < h; y++) {
		for (let x = 0; x < w; x++) {
			const colour = y < 5 ? [255, 255, 255] : x < 30 ? [0, 0, 255] : x >= 90 ? [255, 0, 0] : [0, 255, 0];
			rgb.set(colour, (y * w + x) * 3);
		}
	}
	return rgb;
};

const zonesDir = path.join(root, 'zones');
const croppedDir = path.join(root, 'zones-precropped');
const noisyDir = path.join(root, 'noisy');
const noisyCroppedDir = path.join(root, 'noisy-precropped');

beforeAll(async () => {
	for (const dir of [zonesDir, croppedDir, noisyDir, noisyCroppedDir]) mkdirSync(dir, {recursive: true});
	const zones = sharp(zonesFrame(), {raw: {width: 100, height: 60, channels: 3}});
	await zones.clone().png().toFile(path.join(zonesDir, '00000.png'));
	// A random-looking frame, and the same frame cropped by hand, to compare offsets with a pre-cut source.
	const noise = Buffer.alloc(120 * 90 * 3);
	for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
	const noisy = sharp(noise, {raw: {width: 120, height: 90, channels: 3}});
	for (let f = 0; f < 2; f++) {
		await noisy.clone().png().toFile(path.join(noisyDir, `0000${f}.png`));
		await noisy.clone().extract({left: 7, top: 3, width: 120 - 7 - 20, height: 90 - 3 - 11}).png().toFile(path.join(noisyCroppedDir, `0000${f}.png`));
	}
});

describe('crop offsets (the official offset_crop, applied before resizing)', () => {
	it('cut the given pixels from each edge', async () => {
		// left 30 + right 10 + top 5 leave a 60×55 green area; short side 55 → 16, centre crop: all green.
		const imported = await importSource({source: zonesDir, size: 16, crop: {left: 30, right: 10, top: 5}});
		const plane = 16 * 16;
		for (let p = 0; p < plane; p++) {
			expect([imported.pixels[p], imported.pixels[plane + p], imported.pixels[2 * plane + p]]).toEqual([-1, 1, -1]);
		}
		// Without the offsets the blue and white zones show.
		const centre = await importSource({source: zonesDir, size: 16});
		expect(centre.pixels[0]).toBeGreaterThan(0.9); // top-left is (mostly) white
		expect(centre.pixels[2 * plane + 8 * 16]).toBeGreaterThan(0.9); // blue at the left edge, mid-height
	});

	it('equal importing a source that was cut by hand', async () => {
		const viaOffsets = await importSource({source: noisyDir, size: 40, crop: {left: 7, right: 20, top: 3, bottom: 11}});
		const precut = await importSource({source: noisyCroppedDir, size: 40});
		expect(viaOffsets.pixels).toEqual(precut.pixels);
		expect(viaOffsets.sourceInfo).toMatchObject({width: 120, height: 90});
	});

	it('apply to videos too', async () => {
		const frames = path.join(root, 'index-frames');
		await writeIndexFrames(frames, 3);
		const clip = await encodeClip(frames, path.join(root, 'index.mp4'), {fps: 10, codec: 'h264'});
		// The top 8 rows are the red marker band; cut them and the top of the picture is no longer red.
		const plain = await importSource({source: clip, size: 32, frames: {count: 1}});
		const cut = await importSource({source: clip, size: 32, frames: {count: 1}, crop: {top: 8}});
		expect(plain.pixels[16]).toBeGreaterThan(0.5);
		expect(cut.pixels[16]).toBeLessThan(0);
	});

	it("'center' is the default and the same as no offsets", async () => {
		const a = await importSource({source: noisyDir, size: 24, crop: 'center'});
		const b = await importSource({source: noisyDir, size: 24});
		const c = await importSource({source: noisyDir, size: 24, crop: {}});
		expect(a.pixels).toEqual(b.pixels);
		expect(c.pixels).toEqual(b.pixels);
	});

	it('reject offsets that leave no picture, negative or fractional offsets, and unknown keys', async () => {
		const cases: Array<[unknown, RegExp]> = [
			[{left: 60, right: 40}, /leaves no picture.*100×60.*left \+ right < 100/],
			[{top: 60}, /top \+ bottom < 60/],
			[{left: -1}, /crop\.left is -1/],
			[{top: 1.5}, /crop\.top is 1\.5/],
			[{width: 10}, /crop\.width is not an offset/],
			['middle', /crop is "middle"/],
		];
		for (const [crop, message] of cases) {
			const error = await importSource({source: zonesDir, size: 16, crop: crop as never}).catch((e: unknown) => e);
			expect(isFateZeroError(error, 'INVALID_OPTION'), String(error)).toBe(true);
			expect((error as Error).message).toMatch(message);
		}
	});
});

describe('resize like F.interpolate(bilinear, antialias=True) and centre crop', () => {
	it('short side to size, long side int(size / short · long)', () => {
		expect(shortSideTarget(640, 360, 512)).toEqual({width: 910, height: 512});
		expect(shortSideTarget(360, 640, 512)).toEqual({width: 512, height: 910});
		expect(shortSideTarget(480, 480, 512)).toEqual({width: 512, height: 512});
		expect(shortSideTarget(96, 64, 32)).toEqual({width: 48, height: 32});
	});

	it('taps: identity at scale 1, a widened triangle when shrinking, weights summing to 1', () => {
		const same = antialiasBilinearTaps(8, 8);
		for (let o = 0; o < 8; o++) expect(same.weights[o * same.maxTaps + 0]).toBe(1);
		// 4 → 2: output 0 centres on input 1.0, support 2 → inputs 0,1,2 weighted 0.75,0.75,0.25 (then normalised).
		const half = antialiasBilinearTaps(4, 2);
		expect(half.first[0]).toBe(0);
		expect(half.count[0]).toBe(3);
		expect(Array.from(half.weights.subarray(0, 3))).toEqual([0.75 / 1.75, 0.75 / 1.75, 0.25 / 1.75]);
		const odd = antialiasBilinearTaps(480, 137, 10, 50);
		for (let o = 0; o < 50; o++) {
			let sum = 0;
			for (let j = 0; j < odd.count[o]; j++) sum += odd.weights[o * odd.maxTaps + j];
			expect(sum).toBeCloseTo(1, 12);
		}
	});

	it('upscales sources smaller than the size', async () => {
		const imported = await importSource({source: noisyDir, size: 128, frames: {count: 1}});
		expect(imported.pixels.length).toBe(3 * 128 * 128);
		expect(imported.rgb8[0].length).toBe(128 * 128 * 3);
	});

	it('reads grey, palette and RGBA frames as RGB (alpha dropped, as PIL convert("RGB") does)', async () => {
		const dir = path.join(root, 'formats');
		mkdirSync(dir, {recursive: true});
		const rgba = Buffer.alloc(16 * 16 * 4);
		for (let i = 0; i < 16 * 16; i++) rgba.set([200, 100, 50, 10], i * 4);
		await sharp(rgba, {raw: {width: 16, height: 16, channels: 4}}).png().toFile(path.join(dir, '00000.png'));
		await sharp(Buffer.alloc(16 * 16, 77), {raw: {width: 16, height: 16, channels: 1}}).png().toFile(path.join(dir, '00001.png'));
		await sharp(rgba, {raw: {width: 16, height: 16, channels: 4}}).removeAlpha().png({palette: true}).toFile(path.join(dir, '00002.png'));
		const imported = await importSource({source: dir, size: 16});
		expect([...imported.rgb8[0].subarray(0, 3)]).toEqual([200, 100, 50]);
		expect([...imported.rgb8[1].subarray(0, 3)]).toEqual([77, 77, 77]);
		expect([...imported.rgb8[2].subarray(0, 3)]).toEqual([200, 100, 50]);
	});

	it('accepts JPEG frames', async () => {
		const dir = path.join(root, 'jpeg');
		mkdirSync(dir, {recursive: true});
		for (let f = 0; f < 2; f++) await sharp(path.join(noisyDir, `0000${f}.png`)).jpeg({quality: 95}).toFile(path.join(dir, `frame${f}.JPG`));
		const imported = await importSource({source: dir, size: 32});
		expect(imported.sourceInfo.codec).toBe('jpeg');
		expect(imported.count).toBe(2);
	});

	it('rejects sizes that are not a multiple of 8', async () => {
		for (const size of [0, 100, 7.5, -8]) {
			const error = await importSource({source: noisyDir, size}).catch((e: unknown) => e);
			expect(isFateZeroError(error, 'INVALID_OPTION')).toBe(true);
			expect((error as Error).message).toMatch(/size is .*multiple of 8/);
		}
	});
});
