import type {AudioCodec, Codec, FrameRange, LogLevel, PixelFormat} from '@remotion/renderer';
import {BrowserSafeApis} from '@remotion/renderer/client';
import {RenderInternals} from '@remotion/renderer';
import {FateZeroError} from '../errors/fatezero-error.js';

/**
 * The Remotion render settings a batch applies to every variant's renderMedia() call; each one is
 * Remotion's option of the same name (`fatezero render --variants` takes them as Remotion's CLI
 * flags: --crf, --scale, --frames, --timeout, --log …).
 */
export type RenderMediaSettings = {
	/** Default 'h264'. */
	codec?: Codec;
	/** Constant rate factor (--crf); default: the codec's (h264: 18). */
	crf?: number | null;
	/** Output size factor, above 0 and at most 16 (--scale); default 1. */
	scale?: number;
	/** A frame, [first, last], [first, null] (to the end) or a list of ranges (--frames "0-9"); default: every frame. */
	frameRange?: FrameRange | null;
	/** Render only every nth frame (--every-nth-frame; lowers the fps); default 1. */
	everyNthFrame?: number;
	/** delayRender() timeout per frame (--timeout), at least 7000; default Remotion's 30000. */
	timeoutInMilliseconds?: number;
	/** Remotion's log level during each render (--log); default 'error' (the batch shows its own progress). */
	logLevel?: LogLevel;
	/** Quality of the JPEG frames, 0–100 (--jpeg-quality); default 80. */
	jpegQuality?: number;
	/** Output pixel format (--pixel-format); default: the composition's, else yuv420p. */
	pixelFormat?: PixelFormat;
	/** Format of the frames Chrome captures (--image-format); default: the composition's, else jpeg. Transparent pixel formats need 'png'. */
	imageFormat?: 'jpeg' | 'png';
	/** Leave the audio out (--muted); default false. */
	muted?: boolean;
	/** Audio codec (--audio-codec); default: the codec's (h264: aac). */
	audioCodec?: AudioCodec | null;
};

/** What each numeric render flag accepts, in the words of its INVALID_OPTION error (the CLI's syntax checks say the same). */
export const RENDER_FLAG_ACCEPTED = {
	scale: 'a number above 0 and at most 16 (0.5 renders at half the width and height)',
	frames: 'a frame ("5"), a range ("0-9"), a range to the end ("10-") or ordered ranges ("0-9,20-29") of whole frame numbers ≥ 0',
	everyNthFrame: 'a whole number ≥ 1',
	timeout: "a whole number of milliseconds ≥ 7000 (Remotion's minimum delayRender() timeout)",
	jpegQuality: 'a number from 0 to 100',
} as const;

const list = (values: readonly string[]) => values.map((v) => `"${v}"`).join(', ');
const shown = (value: unknown) => (typeof value === 'string' ? `"${value}"` : JSON.stringify(value) ?? String(value));
const invalid = (flag: string, accepted: string, value: unknown) => new FateZeroError('INVALID_OPTION', `--${flag} must be ${accepted}; got ${shown(value)}.`);
const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const TRANSPARENT_PIXEL_FORMATS: readonly string[] = ['yuva420p', 'yuva444p10le'];

/**
 * Checks the render settings before any work (bundle, clip jobs), so a batch never computes its
 * clips only to fail every render on a typo: each value on its own, then against the codec
 * (Remotion's own tables: crf ranges, pixel formats, audio codecs). Throws INVALID_OPTION naming
 * the flag, the value and what is accepted. What depends on the composition (a frame range past
 * its end, odd sizes for the codec) is Remotion's check at render time: that variant fails.
 */
export const validateRenderOptions = (options: RenderMediaSettings): void => {
	const codec = options.codec ?? 'h264';
	if (!(BrowserSafeApis.validCodecs as readonly string[]).includes(codec)) throw invalid('codec', `one of ${list(BrowserSafeApis.validCodecs)}`, codec);
	const {crf, scale, frameRange, everyNthFrame, timeoutInMilliseconds, logLevel, jpegQuality, pixelFormat, imageFormat, muted, audioCodec} = options;
	if (crf !== undefined && crf !== null) {
		const [min, max] = BrowserSafeApis.getValidCrfRanges(codec);
		if (!isNumber(crf)) throw invalid('crf', `a number (${min}–${max} for ${codec})`, crf);
		if (min === 0 && max === 0) throw invalid('crf', `left out: codec ${codec} takes no crf`, crf);
		if (crf < min || crf > max) throw invalid('crf', `between ${min} and ${max} for codec ${codec} (lower is better quality and larger files)`, crf);
	}
	if (scale !== undefined && (!isNumber(scale) || scale <= 0 || scale > 16)) throw invalid('scale', RENDER_FLAG_ACCEPTED.scale, scale);
	if (frameRange !== undefined && frameRange !== null) {
		try {
			RenderInternals.validateFrameRange(frameRange);
		} catch (error) {
			throw invalid('frames', `${RENDER_FLAG_ACCEPTED.frames} (${(error as Error).message})`, frameRange);
		}
	}
	if (everyNthFrame !== undefined && (!Number.isInteger(everyNthFrame) || everyNthFrame < 1)) throw invalid('every-nth-frame', RENDER_FLAG_ACCEPTED.everyNthFrame, everyNthFrame);
	if (timeoutInMilliseconds !== undefined && (!Number.isInteger(timeoutInMilliseconds) || timeoutInMilliseconds < 7000)) {
		throw invalid('timeout', RENDER_FLAG_ACCEPTED.timeout, timeoutInMilliseconds);
	}
	if (logLevel !== undefined && !(BrowserSafeApis.logLevels as readonly string[]).includes(logLevel)) throw invalid('log', `one of ${list(BrowserSafeApis.logLevels)}`, logLevel);
	if (jpegQuality !== undefined && (!isNumber(jpegQuality) || jpegQuality < 0 || jpegQuality > 100)) throw invalid('jpeg-quality', RENDER_FLAG_ACCEPTED.jpegQuality, jpegQuality);
	if (imageFormat !== undefined && imageFormat !== 'jpeg' && imageFormat !== 'png') throw invalid('image-format', '"jpeg" or "png"', imageFormat);
	if (pixelFormat !== undefined) {
		const forCodec = BrowserSafeApis.validPixelFormatsForCodec(codec) as readonly string[];
		if (!(BrowserSafeApis.validPixelFormats as readonly string[]).includes(pixelFormat)) throw invalid('pixel-format', `one of ${list(BrowserSafeApis.validPixelFormats)}`, pixelFormat);
		if (!forCodec.includes(pixelFormat)) throw invalid('pixel-format', `one of ${list(forCodec)} for codec ${codec}`, pixelFormat);
		if (TRANSPARENT_PIXEL_FORMATS.includes(pixelFormat) && imageFormat !== 'png') {
			throw new FateZeroError('INVALID_OPTION', `--pixel-format ${pixelFormat} (transparent) needs --image-format png: JPEG frames have no alpha; got ${imageFormat === undefined ? 'no --image-format (jpeg)' : `--image-format ${imageFormat}`}.`);
		}
	}
	if (muted !== undefined && typeof muted !== 'boolean') throw invalid('muted', 'true or false', muted);
	if (audioCodec !== undefined && audioCodec !== null) {
		const forCodec = (BrowserSafeApis.supportedAudioCodecs as Record<string, readonly string[]>)[codec] ?? [];
		if (!(BrowserSafeApis.validAudioCodecs as readonly string[]).includes(audioCodec)) throw invalid('audio-codec', `one of ${list(BrowserSafeApis.validAudioCodecs)}`, audioCodec);
		if (!forCodec.includes(audioCodec)) throw invalid('audio-codec', forCodec.length > 0 ? `one of ${list(forCodec)} for codec ${codec}` : `left out: codec ${codec} has no audio`, audioCodec);
	}
};

/** The settings as renderMedia() options, with the batch's defaults. */
export const renderMediaOptions = (options: RenderMediaSettings) => ({
	codec: options.codec ?? 'h264',
	crf: options.crf ?? null,
	scale: options.scale ?? 1,
	frameRange: options.frameRange ?? null,
	everyNthFrame: options.everyNthFrame ?? 1,
	timeoutInMilliseconds: options.timeoutInMilliseconds ?? BrowserSafeApis.DEFAULT_TIMEOUT,
	logLevel: options.logLevel ?? ('error' as const),
	jpegQuality: options.jpegQuality ?? BrowserSafeApis.DEFAULT_JPEG_QUALITY,
	// undefined: the composition's default, then Remotion's
	pixelFormat: options.pixelFormat ?? undefined,
	imageFormat: options.imageFormat ?? undefined,
	muted: options.muted ?? false,
	audioCodec: options.audioCodec ?? null,
});
