import {FateZeroError} from '../errors/fatezero-error.js';
import {runMediaTool} from './run-media-tool.js';

export type DecodeVideoFramesOptions = {
	ffmpeg: string;
	/** Absolute path of the video. */
	file: string;
	/** Displayed frame size (after rotation), which is what ffmpeg outputs. */
	width: number;
	height: number;
	/** Source index of the first frame wanted. */
	firstFrame: number;
	/** How many consecutive source frames to decode from `firstFrame`. */
	frameCount: number;
	/**
	 * Presentation times from `probeVideo` (seconds from the file start). With them, decoding starts
	 * with an input seek; without them, ffmpeg decodes from the start and drops frames with `trim`.
	 */
	frameTimes: number[] | null;
	/** Called for each decoded frame in order; `rgb` is reused after the call returns, so copy what you keep. */
	onFrame: (sourceIndex: number, rgb: Buffer) => void;
	signal?: AbortSignal;
};

export type DecodeVideoFramesResult = {
	/** Frames delivered to `onFrame` (fewer than asked when the video ends early). */
	decoded: number;
	exitCode: number | null;
	stderr: string;
	/** How decoding reached the first frame: 'seek' (input -ss) or 'trim' (decode from the start). */
	method: 'seek' | 'trim' | 'start';
};

/**
 * The ffmpeg arguments that deliver source frames `firstFrame …` as raw RGB. Remotion's ffmpeg has no
 * `select`/`fps` filters and no rawvideo muxer, so frames go through `image2pipe` with the rawvideo
 * codec, and subsampling (stride, fps) happens in JS. `-fps_mode passthrough` matters: image2pipe is a
 * constant-rate muxer, and without it ffmpeg would duplicate or drop frames of variable-rate videos,
 * shifting every later index.
 */
export const decodeArguments = (options: Pick<DecodeVideoFramesOptions, 'file' | 'firstFrame' | 'frameCount' | 'frameTimes'>): {args: string[]; method: DecodeVideoFramesResult['method']} => {
	const {file, firstFrame, frameCount, frameTimes} = options;
	const input: string[] = [];
	const filters: string[] = [];
	let method: DecodeVideoFramesResult['method'] = 'start';
	if (firstFrame > 0 && frameTimes !== null && firstFrame < frameTimes.length) {
		// Seek halfway between the frame before and the first wanted frame: ffmpeg decodes from the
		// keyframe before that time and drops every frame earlier than it, so exactly `firstFrame`
		// frames are skipped whatever the frame rate or GOP, with half a frame of margin for rounding.
		const seek = (frameTimes[firstFrame - 1] + frameTimes[firstFrame]) / 2;
		input.push('-ss', seek.toFixed(6));
		method = 'seek';
	} else if (firstFrame > 0) {
		filters.push(`trim=start_frame=${firstFrame}`);
		method = 'trim';
	}
	const args = [
		'-hide_banner',
		'-nostdin',
		'-v',
		'error',
		...input,
		'-i',
		file,
		'-map',
		'0:V:0',
		...(filters.length > 0 ? ['-vf', filters.join(',')] : []),
		'-frames:v',
		String(frameCount),
		'-fps_mode',
		'passthrough',
		// Passed-through variable-rate timestamps make image2pipe log "non monotonically increasing dts"; this keeps stderr for real errors.
		'-enc_time_base:v',
		'filter',
		'-an',
		'-sn',
		'-dn',
		'-sws_flags',
		'accurate_rnd+full_chroma_int',
		'-pix_fmt',
		'rgb24',
		'-c:v',
		'rawvideo',
		'-f',
		'image2pipe',
		'pipe:1',
	];
	return {args, method};
};

/** Decodes consecutive frames of a video's first video stream to 8-bit RGB, frame by frame. */
export const decodeVideoFrames = async (options: DecodeVideoFramesOptions): Promise<DecodeVideoFramesResult> => {
	const {width, height, firstFrame, frameCount, onFrame} = options;
	const frameBytes = width * height * 3;
	const frame = Buffer.allocUnsafe(frameBytes);
	let filled = 0;
	let decoded = 0;
	let callbackError: unknown = null;
	const {args, method} = decodeArguments(options);
	const run = await runMediaTool(options.ffmpeg, args, {
		signal: options.signal,
		onStdout: (chunk) => {
			let at = 0;
			while (at < chunk.length) {
				const take = Math.min(frameBytes - filled, chunk.length - at);
				chunk.copy(frame, filled, at, at + take);
				filled += take;
				at += take;
				if (filled === frameBytes) {
					filled = 0;
					try {
						onFrame(firstFrame + decoded, frame);
					} catch (error) {
						callbackError = error;
						return false;
					}
					decoded++;
					if (decoded === frameCount) return false;
				}
			}
			return true;
		},
	});
	if (callbackError !== null) throw callbackError;
	if (filled !== 0) {
		throw new FateZeroError(
			'INVALID_INPUT',
			`Video ${options.file}: ffmpeg delivered a partial frame (${filled} of ${frameBytes} bytes expected for ${width}×${height} RGB), so the frame size from ffprobe does not match the decoded frames. Re-export the video (square pixels, no unusual rotation).`,
		);
	}
	return {decoded, exitCode: run.code, stderr: run.stderr, method};
};
