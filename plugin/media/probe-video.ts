import {statSync} from 'node:fs';
import path from 'node:path';
import {FateZeroError} from '../errors/fatezero-error.js';
import {runMediaTool, stderrTail, type MediaToolOptions} from './run-media-tool.js';

export type VideoProbe = {
	/** Frame size as shown, after the container's rotation (ffmpeg auto-rotates when it decodes). */
	width: number;
	height: number;
	/** Average frame rate, or null when the container gives none. */
	fps: number | null;
	/** Frames that can be read: the video packets present in the file (after edit-list discards, without a cut-off last packet). */
	frameCount: number;
	/** The frame count the header declares (mp4/mov), or null (webm has none). */
	declaredFrameCount: number | null;
	durationInSeconds: number | null;
	/** ffprobe's codec name: h264, hevc, vp9, av1, prores, … */
	codec: string;
	pixelFormat: string | null;
	/** Display rotation in degrees (0, 90, 180, 270). */
	rotation: number;
	/**
	 * Presentation time of each frame in seconds, in display order, measured as ffmpeg's input `-ss`
	 * measures it (from the file's start time); null when some packet has no timestamp.
	 */
	frameTimes: number[] | null;
	/** True when the frame times stray from a constant rate by more than a quarter frame (phone videos often do). */
	variableRate: boolean;
	/** ffprobe's container name, e.g. 'mov,mp4,m4a,3gp,3g2,mj2' or 'matroska,webm'. */
	formatName: string;
};

type ProbeJson = {
	packets?: Array<{pts?: number; flags?: string}>;
	streams?: Array<{
		codec_name?: string;
		width?: number;
		height?: number;
		pix_fmt?: string;
		r_frame_rate?: string;
		avg_frame_rate?: string;
		time_base?: string;
		nb_frames?: string;
		duration?: string;
		side_data_list?: Array<{rotation?: number}>;
	}>;
	format?: {start_time?: string; duration?: string; format_name?: string};
};

const parseRate = (rate: string | undefined): number | null => {
	if (!rate) return null;
	const [num, den] = rate.split('/').map(Number);
	const value = den === undefined ? num : num / den;
	return Number.isFinite(value) && value > 0 ? value : null;
};

const parseSeconds = (value: string | undefined): number | null => {
	if (value === undefined) return null;
	const n = Number(value);
	return Number.isFinite(n) ? n : null;
};

// ffmpeg's own rule (fftools get_rotation): only quarter turns change the frame's shape; other angles are ignored.
const normaliseRotation = (raw: number | undefined): number => {
	if (raw === undefined || !Number.isFinite(raw)) return 0;
	let theta = -Math.round(raw);
	theta -= 360 * Math.floor(theta / 360 + 0.9 / 360);
	for (const quarter of [0, 90, 180, 270]) if (Math.abs(theta - quarter) < 1) return quarter;
	return 0;
};

/**
 * Reads a video's first video stream (cover art excluded) and its packet timestamps with one
 * ffprobe call. Reading the packets demuxes the whole file (no decoding): it gives a frame count for
 * containers that declare none (webm), exact frame times for seeking, and shows truncated files.
 */
export const probeVideo = async (ffprobe: string, file: string, options: Pick<MediaToolOptions, 'signal'> = {}): Promise<VideoProbe> => {
	const name = path.basename(file);
	if (statSync(file).size === 0) {
		throw new FateZeroError('INVALID_INPUT', `Video ${file} is empty (0 bytes). The file was probably not written completely; export or copy it again.`);
	}
	const run = await runMediaTool(
		ffprobe,
		[
			'-v',
			'error',
			'-select_streams',
			'V:0',
			'-show_entries',
			'stream=codec_name,width,height,pix_fmt,r_frame_rate,avg_frame_rate,time_base,nb_frames,duration:stream_side_data=rotation:format=start_time,duration,format_name:packet=pts,flags',
			'-of',
			'json',
			file,
		],
		options,
	);
	if (run.code !== 0) {
		throw new FateZeroError(
			'INVALID_INPUT',
			`Video ${file} could not be read (ffprobe: ${stderrTail(run.stderr) || `exit code ${run.code}`}). Check that it is a complete, playable mp4/webm/mov file; re-export it if it was cut off or renamed from another format.`,
		);
	}
	let json: ProbeJson;
	try {
		json = JSON.parse(run.stdout.toString('utf8')) as ProbeJson;
	} catch (error) {
		throw new FateZeroError('INVALID_INPUT', `Video ${file}: ffprobe printed no readable description (${(error as Error).message}). Re-export the file.`, {cause: error});
	}
	const stream = json.streams?.[0];
	if (!stream) {
		throw new FateZeroError('INVALID_INPUT', `${file} (${json.format?.format_name ?? 'unknown format'}) has no video stream. Pass a video with a picture track, or a folder of frames.`);
	}
	if (!stream.width || !stream.height) {
		throw new FateZeroError('INVALID_INPUT', `Video ${name}: ffprobe found a ${stream.codec_name ?? 'video'} stream without a frame size; the file is damaged or truncated. Re-export it.`);
	}
	const rotation = normaliseRotation(stream.side_data_list?.find((s) => s.rotation !== undefined)?.rotation);
	const quarterTurn = rotation === 90 || rotation === 270;

	const [tbNum, tbDen] = (stream.time_base ?? '').split('/').map(Number);
	const timeBase = tbNum > 0 && tbDen > 0 ? tbNum / tbDen : null;
	const startTime = parseSeconds(json.format?.start_time) ?? 0;
	const packets = (json.packets ?? []).filter((p) => !p.flags?.includes('D'));
	// A file cut short ends in a packet ffprobe flags corrupt (C): its bytes are missing, so it is no frame.
	while (packets.length > 0 && packets[packets.length - 1].flags?.includes('C')) packets.pop();
	const timed = timeBase !== null && packets.every((p) => typeof p.pts === 'number');
	const frameTimes = timed ? packets.map((p) => (p.pts as number) * timeBase - startTime).sort((a, b) => a - b) : null;

	const declared = stream.nb_frames === undefined ? null : Number(stream.nb_frames);
	const fps = parseRate(stream.avg_frame_rate) ?? parseRate(stream.r_frame_rate);
	const duration = parseSeconds(json.format?.duration) ?? parseSeconds(stream.duration) ?? (fps ? packets.length / fps : null);
	const variableRate = frameTimes !== null && fps !== null && frameTimes.some((t, i) => Math.abs(t - frameTimes[0] - i / fps) > 0.25 / fps);
	return {
		width: quarterTurn ? stream.height : stream.width,
		height: quarterTurn ? stream.width : stream.height,
		fps,
		frameCount: packets.length,
		declaredFrameCount: declared !== null && Number.isFinite(declared) && declared > 0 ? declared : null,
		durationInSeconds: duration,
		codec: stream.codec_name ?? 'unknown',
		pixelFormat: stream.pix_fmt ?? null,
		rotation,
		frameTimes,
		variableRate,
		formatName: json.format?.format_name ?? 'unknown',
	};
};
