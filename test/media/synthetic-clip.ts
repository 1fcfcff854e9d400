import {execFile} from 'node:child_process';
import {mkdirSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {promisify} from 'node:util';
import sharp from 'sharp';
import {resolveCompositorBinaries} from '../../plugin/media/compositor-binaries.js';

const run = promisify(execFile);

/**
 * Frames that carry their own index: 8 horizontal bands of 8 rows on a 96×64 frame. Band 0 is red
 * (a channel-order check), bands 1…7 hold the index's bits (light = 1, dark = 0). Wide bands of two
 * far-apart levels survive 4:2:0 chroma, lossy codecs and resizing.
 */
export const CLIP_WIDTH = 96;
export const CLIP_HEIGHT = 64;
const BANDS = 8;
const ON = 230;
const OFF = 25;

export const indexFrame = (index: number): Buffer => {
	const rgb = Buffer.alloc(CLIP_WIDTH * CLIP_HEIGHT * 3);
	const bandHeight = CLIP_HEIGHT / BANDS;
	for (let y = 0; y < CLIP_HEIGHT; y++) {
		const band = Math.floor(y / bandHeight);
		const on = band > 0 && ((index >> (band - 1)) & 1) === 1;
		const colour = band === 0 ? [ON, OFF, OFF] : on ? [ON, ON, ON] : [OFF, OFF, OFF];
		for (let x = 0; x < CLIP_WIDTH; x++) rgb.set(colour, (y * CLIP_WIDTH + x) * 3);
	}
	return rgb;
};

/** Writes frames `first … first + count - 1` as 00000.png … into `dir` (named by their index). */
export const writeIndexFrames = async (dir: string, count: number, first = 0): Promise<void> => {
	mkdirSync(dir, {recursive: true});
	for (let i = first; i < first + count; i++) {
		await sharp(indexFrame(i), {raw: {width: CLIP_WIDTH, height: CLIP_HEIGHT, channels: 3}})
			.png()
			.toFile(path.join(dir, `${String(i).padStart(5, '0')}.png`));
	}
};

/**
 * Reads the index back from frame k of imported pixels ([N, 3, S, S] in [-1, 1]), which must show
 * the full height of the clip (a 96×64 frame centre-cropped to a square keeps every band).
 * Returns -1 when the red marker band is missing (wrong channel order or geometry).
 */
export const readFrameIndex = (pixels: Float32Array, k: number, size: number): number => {
	const plane = size * size;
	const at = (c: number, band: number): number => {
		const y = Math.floor(((band + 0.5) * size) / BANDS);
		let sum = 0;
		for (let x = size / 4; x < (3 * size) / 4; x++) sum += pixels[k * 3 * plane + c * plane + y * size + x];
		return sum / (size / 2);
	};
	if (!(at(0, 0) > 0.5 && at(1, 0) < -0.5 && at(2, 0) < -0.5)) return -1;
	let index = 0;
	for (let band = 1; band < BANDS; band++) if (at(1, band) > 0) index |= 1 << (band - 1);
	return index;
};

export type ClipCodec = 'h264' | 'vp9' | 'prores';

const CODEC_ARGS: Record<ClipCodec, string[]> = {
	// -qp 0 is lossless on the YUV planes; GOP 10 with B-frames so seeks land between keyframes.
	h264: ['-c:v', 'libx264', '-qp', '0', '-pix_fmt', 'yuv420p', '-g', '10', '-bf', '2'],
	vp9: ['-c:v', 'libvpx-vp9', '-lossless', '1', '-pix_fmt', 'yuv420p', '-g', '10', '-deadline', 'realtime', '-cpu-used', '8'],
	prores: ['-c:v', 'prores_ks', '-profile:v', '0'],
};

export const ffmpeg = async (args: string[]): Promise<void> => {
	await run(resolveCompositorBinaries().ffmpeg, ['-hide_banner', '-v', 'error', '-y', ...args]);
};

/** Encodes PNG frames `%05d.png` of `framesDir` (from `first`, `count` of them) into `out` with Remotion's ffmpeg. */
export const encodeClip = async (framesDir: string, out: string, options: {fps: number; codec: ClipCodec; first?: number; count?: number; extra?: string[]}): Promise<string> => {
	await ffmpeg([
		'-framerate',
		String(options.fps),
		'-start_number',
		String(options.first ?? 0),
		'-i',
		path.join(framesDir, '%05d.png'),
		...(options.count === undefined ? [] : ['-frames:v', String(options.count)]),
		...CODEC_ARGS[options.codec],
		...(options.extra ?? []),
		out,
	]);
	return out;
};

/**
 * A variable-rate mp4: frames 0…9 at 10 fps, then 10…19 at 30 fps, joined without re-encoding.
 * Without `-fps_mode passthrough`, ffmpeg would turn it into 15 frames at a constant rate.
 */
export const encodeVariableRateClip = async (framesDir: string, dir: string): Promise<string> => {
	const a = path.join(dir, 'vfr-a.mp4');
	const b = path.join(dir, 'vfr-b.mp4');
	const timescale = ['-video_track_timescale', '15360'];
	await encodeClip(framesDir, a, {fps: 10, codec: 'h264', first: 0, count: 10, extra: timescale});
	await encodeClip(framesDir, b, {fps: 30, codec: 'h264', first: 10, count: 10, extra: timescale});
	const list = path.join(dir, 'vfr-list.txt');
	writeFileSync(list, `file '${a}'\nfile '${b}'\n`);
	const out = path.join(dir, 'vfr.mp4');
	await ffmpeg(['-f', 'concat', '-safe', '0', '-i', list, '-c', 'copy', out]);
	return out;
};
