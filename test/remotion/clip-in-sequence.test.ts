import path from 'node:path';
import {renderMedia, renderStill, selectComposition} from '@remotion/renderer';
import sharp from 'sharp';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import type {ClipJobResult} from '../../plugin/jobs/run-clip-job.js';
import {prerender} from '../../plugin/node/prerender.js';
import {
	blackRgb,
	BROWSER,
	bundleDemo,
	demoProject,
	decodeVideoFrame,
	ENTRY,
	expectedClipFrame,
	framePath,
	launchBrowser,
	meanAbsDiff,
	readRgb,
	tempProject,
	testSettings,
	tinyClip,
	writeFrames,
	type Rgb,
} from './remotion-test-helpers.js';

// ClipInSequence: a 30 fps, 128×128 composition showing an edited clip inside <Sequence from={6}>.
// The clip comes from a PNG folder, so it plays at 10 fps: each clip frame is held for 3
// composition frames. Rendered for real in Chromium and compared with the cached PNGs.

const root = tempProject('sequence');
const cacheDir = path.join(root, 'cache');
const FROM = 6;
// The source is relative: the prerender resolves it against projectRoot, and the browser only
// ever sees the string (it is part of the descriptor key).
const inputProps = {clip: tinyClip('frames', 'a red car on a road'), from: FROM};
let serveUrl: string;
let clip: ClipJobResult;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let clipFrames: Rgb[];

beforeAll(async () => {
	await writeFrames(path.join(root, 'frames'));
	const settings = testSettings(root);
	const project = await demoProject(settings);
	serveUrl = await bundleDemo(project);
	const result = await prerender({entryPoint: ENTRY, compositionId: 'ClipInSequence', inputProps, settings, project, serveUrl, browserExecutable: BROWSER});
	[clip] = result.clips;
	clipFrames = await Promise.all(Array.from({length: clip.manifest.frameCount!}, (_, k) => readRgb(framePath(cacheDir, clip.key, k))));
	browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
	await browser?.close({silent: true});
});

/** What composition frame `frame` must show at the clip's size: black before `from`, else the held clip frame. */
const expected = (frame: number): {k: number | null; rgb: Rgb} => {
	const k = expectedClipFrame(frame, FROM, 30, clip.manifest.fps!, clipFrames.length);
	return {k, rgb: k === null ? blackRgb(64, 64) : clipFrames[k]};
};

describe('an edited clip inside <Sequence from> at another fps', () => {
	it('was prerendered from the PNG folder at 10 fps, 4 frames of 64²', () => {
		expect(clip.manifest).toMatchObject({fps: 10, frameCount: 4, width: 64, height: 64});
		// the random-weight model still gives four distinct frames, so a wrong index cannot pass
		for (let a = 0; a < 4; a++) for (let b = a + 1; b < 4; b++) expect(meanAbsDiff(clipFrames[a], clipFrames[b])).toBeGreaterThan(20);
	});

	it('renders stills that equal the cached PNGs: black before `from`, then each clip frame held 3 frames', async () => {
		const composition = await selectComposition({serveUrl, id: 'ClipInSequence', inputProps, puppeteerInstance: browser, logLevel: 'error'});
		expect(composition).toMatchObject({fps: 30, durationInFrames: 30, width: 128, height: 128});
		const frames = [0, 5, 6, 8, 9, 11, 12, 14, 15, 17, 29];
		const report: string[] = [];
		for (const frame of frames) {
			const output = path.join(root, 'stills', `${frame}.png`);
			// scale 0.5 draws the 64² clip 1:1 into 64² device pixels, so the still is comparable
			// pixel for pixel with the cached PNG (no resampling on either side)
			await renderStill({composition, serveUrl, frame, output, inputProps, puppeteerInstance: browser, imageFormat: 'png', scale: 0.5, overwrite: true, logLevel: 'error'});
			const still = await readRgb(output);
			const {k, rgb} = expected(frame);
			const diff = meanAbsDiff(still, rgb);
			report.push(`frame ${frame} → ${k === null ? 'black' : `clip ${k}`}: ${diff.toFixed(3)}`);
			expect(diff, report.join('\n')).toBeLessThan(3);
			// …and it is not any other clip frame
			for (const [other, otherRgb] of clipFrames.entries()) if (other !== k) expect(meanAbsDiff(still, otherRgb)).toBeGreaterThan(10);
		}
		console.log(`stills vs cached PNGs (mean abs diff, 0…255):\n  ${report.join('\n  ')}`);
	});

	it('renders an h264 video whose decoded frames show the right clip frame at the right time', async () => {
		const composition = await selectComposition({serveUrl, id: 'ClipInSequence', inputProps, puppeteerInstance: browser, logLevel: 'error'});
		const output = path.join(root, 'sequence.mp4');
		await renderMedia({composition, serveUrl, codec: 'h264', outputLocation: output, inputProps, puppeteerInstance: browser, overwrite: true, logLevel: 'error'});
		const report: string[] = [];
		for (const frame of [3, 6, 10, 13, 16, 25]) {
			// the video is 128², the clip 64²: halve the decoded frame (2×2 box) to compare at clip size
			const decoded = await decodeVideoFrame(output, frame);
			const {data} = await sharp(decoded.data, {raw: {width: 128, height: 128, channels: 3}}).resize(64, 64, {kernel: 'cubic'}).raw().toBuffer({resolveWithObject: true});
			const small: Rgb = {data, width: 64, height: 64};
			const {k, rgb} = expected(frame);
			const diff = meanAbsDiff(small, rgb);
			const others = clipFrames.map((other, i) => (i === k ? Infinity : meanAbsDiff(small, other)));
			report.push(`frame ${frame} → ${k === null ? 'black' : `clip ${k}`}: ${diff.toFixed(2)} (nearest other ${Math.min(...others).toFixed(2)})`);
			// h264 (4:2:0, lossy) is far from exact on random-model noise; the right frame must still be much the closest
			expect(diff, report.join('\n')).toBeLessThan(k === null ? 3 : 25);
			expect(diff * 2, report.join('\n')).toBeLessThan(Math.min(...others));
		}
		console.log(`h264 frames vs cached PNGs:\n  ${report.join('\n  ')}`);
	});
});
