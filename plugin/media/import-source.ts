import path from 'node:path';
import {FateZeroError, isFateZeroError} from '../errors/fatezero-error.js';
import {resolveCompositorBinaries} from './compositor-binaries.js';
import {decodeVideoFrames} from './decode-video-frames.js';
import {checkCropFits, chwToRgb8, fateZeroFrameTransform, resolveCropOption, type CropOption, type ResolvedCrop} from './fatezero-frame-transform.js';
import {describeSelection, resolveFrameIndices, validateFrameSelection, type FrameSelection} from './frame-selection.js';
import {mapWithConcurrency} from './map-with-concurrency.js';
import {probeFrameFolder} from './probe-frame-folder.js';
import {probeVideo, type VideoProbe} from './probe-video.js';
import {readImageRgb} from './read-image-rgb.js';
import {stderrTail} from './run-media-tool.js';
import {sourceKind, type SourceKind} from './source-kind.js';

export type ImportSourceOptions = {
	/** A video file (mp4/H.264, webm/VP9, mov, …) or a folder of PNG/JPEG frames; relative to the cwd. */
	source: string;
	/** Which source frames: `{start, count, stride}` or `{start, count, fps}`. Default: every frame. */
	frames?: FrameSelection;
	/** Side of the square output in pixels (a multiple of 8, since the VAE works on 8× smaller latents). */
	size: number;
	/** 'center' (default) or pixel offsets cut from the edges before resizing (FateZero's `offset`). */
	crop?: CropOption;
	/** Folder with ffmpeg and ffprobe, instead of Remotion's compositor package (Remotion's option name). */
	binariesDirectory?: string | null;
	signal?: AbortSignal;
	/**
	 * Problems that do not stop the import (a truncated video whose selected frames are intact),
	 * as they are found. Default: a process warning (printed on stderr), so no caller drops them.
	 */
	onWarning?: (message: string) => void;
};

export type SourceInfo = {
	kind: SourceKind;
	/** Frame size of the source (displayed size for rotated videos). */
	width: number;
	height: number;
	/** Frames per second; null for frame folders. */
	fps: number | null;
	/** Frames that can be read from the source. */
	frameCount: number;
	/** null for frame folders. */
	durationInSeconds: number | null;
	/** Video codec (h264, vp9, …) or the folder's image format(s) (png, jpeg, jpeg+png). */
	codec: string;
};

export type ImportedSource = {
	/** [count, 3, size, size] in [-1, 1], the VAE's input. */
	pixels: Float32Array;
	/** Per frame, size×size×3 interleaved 8-bit RGB (for writing PNGs). */
	rgb8: Buffer[];
	count: number;
	size: number;
	sourceInfo: SourceInfo;
	/** Source frame index of each imported frame. */
	selectedSourceFrames: number[];
	/** Frame folders: the file each imported frame came from; null for videos. */
	selectedFiles: string[] | null;
	/** Problems that did not stop the import (a truncated video whose selected frames are intact). */
	warnings: string[];
	timingsMs: {probe: number; decode: number; total: number};
};

// Input seeking (-ss) lands exactly only in containers with a sample index (mp4/mov, matroska/webm
// cues); MPEG-TS, for one, snaps to keyframes. Elsewhere, and for short skips where decoding from the
// start costs little, frames are counted from the start instead (trim=start_frame), which is always exact.
const SEEKABLE_FORMAT = /\b(mov|mp4|matroska|webm)\b/;
const SEEK_AFTER_FRAMES = 50;

const validateSize = (size: unknown): number => {
	if (typeof size !== 'number' || !Number.isInteger(size) || size < 8 || size % 8 !== 0) {
		const suggestion = typeof size === 'number' && Number.isFinite(size) ? Math.max(8, Math.round(size / 8) * 8) : 512;
		throw new FateZeroError('INVALID_OPTION', `size is ${JSON.stringify(size)}; it must be a whole multiple of 8 (the VAE works on 8× smaller latents), e.g. ${suggestion}.`);
	}
	return size;
};

/** Output positions of each source frame (fps selections above the source rate repeat frames). */
const positionsBySourceFrame = (indices: number[]): Map<number, number[]> => {
	const map = new Map<number, number[]>();
	indices.forEach((source, k) => map.set(source, [...(map.get(source) ?? []), k]));
	return map;
};

/**
 * Imports a clip the way FateZero's `ImageSequenceDataset` does: the selected frames, offset crop,
 * short side resized to `size` (bilinear, antialiased), centre crop to size×size, scaled to [-1, 1].
 * Videos are decoded with Remotion's ffmpeg, only from the first to the last selected frame. Writes
 * no files.
 */
export const importSource = async (options: ImportSourceOptions): Promise<ImportedSource> => {
	const started = performance.now();
	const size = validateSize(options.size);
	const crop = resolveCropOption(options.crop);
	const selection = options.frames ?? {};
	validateFrameSelection(selection);
	if (typeof options.source !== 'string' || options.source === '') {
		throw new FateZeroError('INVALID_INPUT', `source is ${JSON.stringify(options.source)}; pass the path of a video file or of a folder of PNG/JPEG frames.`);
	}
	const source = path.resolve(options.source);
	const kind = sourceKind(source);
	const imported = kind === 'video' ? await importVideo(source, selection, size, crop, options) : await importFolder(source, selection, size, crop, options);
	const warn = options.onWarning ?? ((message: string) => process.emitWarning(message, {code: 'FATEZERO_SOURCE_WARNING'}));
	for (const warning of imported.warnings) warn(warning);
	const rgb8 = imported.selectedSourceFrames.map((_, k) => chwToRgb8(imported.pixels, k * 3 * size * size, size));
	return {...imported, rgb8, count: imported.selectedSourceFrames.length, size, timingsMs: {...imported.timingsMs, total: performance.now() - started}};
};

type ImportParts = Pick<ImportedSource, 'pixels' | 'sourceInfo' | 'selectedSourceFrames' | 'selectedFiles' | 'warnings'> & {timingsMs: {probe: number; decode: number}};

const checkAborted = (signal: AbortSignal | undefined, source: string): void => {
	if (signal?.aborted) throw new FateZeroError('ABORTED', `Import of ${source} was aborted.`);
};

const importVideo = async (file: string, selection: FrameSelection, size: number, crop: ResolvedCrop, options: ImportSourceOptions): Promise<ImportParts> => {
	const binaries = resolveCompositorBinaries(options.binariesDirectory ?? null);
	const probeStart = performance.now();
	const probe = await probeVideo(binaries.ffprobe, file, {signal: options.signal});
	const probeMs = performance.now() - probeStart;
	if (probe.frameCount === 0) {
		throw new FateZeroError(
			'INVALID_INPUT',
			`Video ${file} has no readable frames${probe.declaredFrameCount ? ` although its header declares ${probe.declaredFrameCount} (the file looks truncated)` : ''}. Check that it is a complete, playable video; copy or export it again.`,
		);
	}
	const truncated = probe.declaredFrameCount !== null && probe.frameCount < probe.declaredFrameCount;
	const label = `${file} (${truncated ? `${probe.frameCount} readable of the ${probe.declaredFrameCount} frames its header declares; the file looks truncated` : `${probe.codec}, ${probe.width}×${probe.height}${probe.fps ? `, ${round(probe.fps)} fps` : ''}`})`;
	checkCropFits(crop, probe.width, probe.height, file);
	const indices = selectVideoFrames(selection, probe, label);
	const first = indices[0];
	const last = indices[indices.length - 1];
	const plane = 3 * size * size;
	const pixels = new Float32Array(indices.length * plane);
	const positions = positionsBySourceFrame(indices);
	const decodeStart = performance.now();
	const result = await decodeVideoFrames({
		ffmpeg: binaries.ffmpeg,
		file,
		width: probe.width,
		height: probe.height,
		firstFrame: first,
		frameCount: last - first + 1,
		frameTimes: first >= SEEK_AFTER_FRAMES && SEEKABLE_FORMAT.test(probe.formatName) ? probe.frameTimes : null,
		signal: options.signal,
		onFrame: (sourceIndex, rgb) => {
			const at = positions.get(sourceIndex);
			if (!at) return;
			fateZeroFrameTransform(rgb, probe.width, probe.height, crop, size, pixels, at[0] * plane);
			for (const k of at.slice(1)) pixels.copyWithin(k * plane, at[0] * plane, (at[0] + 1) * plane);
		},
	});
	checkAborted(options.signal, file);
	const wanted = last - first + 1;
	if (result.decoded < wanted) {
		const available = first + result.decoded;
		const why = stderrTail(result.stderr);
		const declared = probe.declaredFrameCount !== null && probe.declaredFrameCount > available ? ` although its header declares ${probe.declaredFrameCount} (the file looks truncated or damaged)` : '';
		const what =
			first === 0
				? `has only ${available} decodable frame${available === 1 ? '' : 's'}${declared}`
				: `decoded only ${result.decoded} of source frames ${first}…${last}, so it has at most ${available} decodable frames${declared}`;
		throw new FateZeroError(
			'INVALID_INPUT',
			`Video ${file} ${what}, but frame selection ${describeSelection(selection)} needs source frame ${last}${why ? ` (ffmpeg: ${why})` : ''}. Select frames below ${available}, or re-export the complete video.`,
		);
	}
	return {
		pixels,
		sourceInfo: {
			kind: 'video',
			width: probe.width,
			height: probe.height,
			fps: probe.fps,
			frameCount: probe.frameCount,
			durationInSeconds: probe.durationInSeconds,
			codec: probe.codec,
		},
		selectedSourceFrames: indices,
		selectedFiles: null,
		warnings: truncated
			? [`${file} looks truncated: only ${probe.frameCount} of the ${probe.declaredFrameCount} frames its header declares can be read. The imported frames are intact; copy or export the file again for the rest.`]
			: [],
		timingsMs: {probe: probeMs, decode: performance.now() - decodeStart},
	};
};

/**
 * Resolves the selection on a video. On a truncated file, a selection that only fails because frames
 * are missing is the file's fault, not the option's: it is reported as INVALID_INPUT.
 */
const selectVideoFrames = (selection: FrameSelection, probe: VideoProbe, label: string): number[] => {
	try {
		return resolveFrameIndices(selection, probe.frameCount, {fps: probe.fps, frameTimes: probe.variableRate ? probe.frameTimes : null}, label);
	} catch (error) {
		const declared = probe.declaredFrameCount;
		if (!isFateZeroError(error, 'INVALID_OPTION') || declared === null || declared <= probe.frameCount) throw error;
		try {
			resolveFrameIndices(selection, declared, {fps: probe.fps, frameTimes: null}, label);
		} catch {
			throw error;
		}
		throw new FateZeroError('INVALID_INPUT', `${error.message} The selection fits the complete video: copy or export the file again.`, {cause: error});
	}
};

const importFolder = async (dir: string, selection: FrameSelection, size: number, crop: ResolvedCrop, options: ImportSourceOptions): Promise<ImportParts> => {
	const probeStart = performance.now();
	const folder = await probeFrameFolder(dir);
	const probeMs = performance.now() - probeStart;
	checkCropFits(crop, folder.width, folder.height, dir);
	const indices = resolveFrameIndices(selection, folder.files.length, null, `frame folder ${dir}`);
	const plane = 3 * size * size;
	const pixels = new Float32Array(indices.length * plane);
	const positions = [...positionsBySourceFrame(indices)];
	const decodeStart = performance.now();
	await mapWithConcurrency(positions, 4, async ([sourceIndex, at]) => {
		checkAborted(options.signal, dir);
		const file = folder.files[sourceIndex];
		const image = await readImageRgb(file);
		if (image.width !== folder.width || image.height !== folder.height) {
			throw new FateZeroError('INVALID_INPUT', `Frame ${file} decoded to ${image.width}×${image.height}, but its header said ${folder.width}×${folder.height}. Re-export the frame.`);
		}
		fateZeroFrameTransform(image.data, image.width, image.height, crop, size, pixels, at[0] * plane);
		for (const k of at.slice(1)) pixels.copyWithin(k * plane, at[0] * plane, (at[0] + 1) * plane);
	});
	return {
		pixels,
		sourceInfo: {kind: 'frames', width: folder.width, height: folder.height, fps: null, frameCount: folder.files.length, durationInSeconds: null, codec: folder.codec},
		selectedSourceFrames: indices,
		selectedFiles: indices.map((i) => folder.files[i]),
		warnings: [],
		timingsMs: {probe: probeMs, decode: performance.now() - decodeStart},
	};
};

const round = (n: number): number => Math.round(n * 1000) / 1000;
