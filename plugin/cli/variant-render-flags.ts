import type {AudioCodec, Codec, FrameRange, FrameRangeTuple, LogLevel, PixelFormat} from '@remotion/renderer';
import {FateZeroError} from '../errors/fatezero-error.js';
import {RENDER_FLAG_ACCEPTED, validateRenderOptions, type RenderMediaSettings} from '../node/render-options.js';

/**
 * The Remotion render flags `fatezero render --variants` takes (as `remotion render` spells them)
 * and applies to every variant's renderMedia() call.
 */
export const VARIANT_RENDER_OPTIONS = {
	codec: {type: 'string'},
	concurrency: {type: 'string'},
	crf: {type: 'string'},
	scale: {type: 'string'},
	frames: {type: 'string'},
	'every-nth-frame': {type: 'string'},
	timeout: {type: 'string'},
	log: {type: 'string'},
	'jpeg-quality': {type: 'string'},
	'pixel-format': {type: 'string'},
	'image-format': {type: 'string'},
	muted: {type: 'boolean'},
	'audio-codec': {type: 'string'},
} as const;

export const VARIANT_RENDER_HELP = `Remotion render flags a --variants batch takes, applied to every variant (as \`remotion render\` reads them):
  --codec C            h264 (default), h265, vp8, vp9, av1, prores, gif, … (sets the outputs' extension)
  --concurrency N|P%   Frames rendered in parallel per variant
  --crf N              Constant rate factor, in the codec's range (h264: 1–51)
  --scale F            Output size factor, above 0 and at most 16 (0.5: half width and height)
  --frames A-B         Frames to render: "5", "0-9", "10-" (to the end) or "0-9,20-29"
  --every-nth-frame N  Render every Nth frame (lower fps; meant for GIFs)
  --timeout MS         delayRender() timeout in milliseconds (≥ 7000; default 30000)
  --log LEVEL          Remotion's log level: trace, verbose, info, warn, error (default error)
  --jpeg-quality Q     0–100 (default 80)
  --image-format F     jpeg (default) or png
  --pixel-format P     yuv420p (default), yuv444p, yuva420p (vp8/vp9; transparent, with --image-format png), …
  --audio-codec A      aac, mp3, opus or pcm-16, as the codec allows
  --muted              No audio
Other \`remotion render\` flags and remotion.config.ts settings do not apply to batches.`;

type Values = {[K in keyof typeof VARIANT_RENDER_OPTIONS]?: (typeof VARIANT_RENDER_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string};

const invalid = (flag: string, accepted: string, value: string) => new FateZeroError('INVALID_OPTION', `--${flag} must be ${accepted}; got "${value}".`);

const DECIMAL = /^\s*(\d+(\.\d*)?|\.\d+)\s*$/;
const WHOLE = /^\s*\d+\s*$/;

/** A decimal (or whole) number as written, or an INVALID_OPTION error naming the flag. */
const numberFlag = (flag: string, value: string | undefined, accepted: string, whole = false): number | undefined => {
	if (value === undefined) return undefined;
	if (!(whole ? WHOLE : DECIMAL).test(value)) throw invalid(flag, accepted, value);
	return Number(value);
};

const FRAMES_ACCEPTED = RENDER_FLAG_ACCEPTED.frames;

/** `--frames` as Remotion's CLI reads it: "5" → 5, "0-9" → [0, 9], "10-" → [10, null], "0-9,20-29" → [[0, 9], [20, 29]]. */
export const parseFramesFlag = (value: string): FrameRange => {
	const selectors = value.split(',').map((part) => part.trim());
	const tuples: FrameRangeTuple[] = selectors.map((selector) => {
		const match = /^(\d+)(?:-(\d*))?$/.exec(selector);
		if (!match) throw invalid('frames', FRAMES_ACCEPTED, value);
		const first = Number(match[1]);
		if (match[2] === undefined) return [first, first];
		const last = match[2] === '' ? null : Number(match[2]);
		if (last !== null && last < first) throw invalid('frames', `${FRAMES_ACCEPTED}, the last frame not before the first`, value);
		return [first, last];
	});
	tuples.forEach(([first], i) => {
		const previous = tuples[i - 1];
		if (previous && (previous[1] === null || first <= previous[1])) throw invalid('frames', `${FRAMES_ACCEPTED}; ranges in order, not overlapping, only the last one open`, value);
	});
	if (tuples.length > 1) return tuples;
	return selectors[0].includes('-') ? tuples[0] : tuples[0][0];
};

/** A share of the cores ("50%") or a number of tabs, as Remotion's --concurrency. */
const concurrencyFlag = (value: string | undefined): number | string | null => {
	if (value === undefined) return null;
	if (/^\d+$/.test(value) && Number(value) >= 1) return Number(value);
	if (/^\d+(\.\d+)?%$/.test(value) && Number.parseFloat(value) > 0 && Number.parseFloat(value) <= 100) return value;
	throw new FateZeroError('INVALID_OPTION', `--concurrency must be a whole number ≥ 1 or a share of the cores such as "50%"; got "${value}".`);
};

/**
 * The batch's render flags (parseArgs values) as renderVariants() options, every value checked
 * (syntax here, ranges and codec combinations by validateRenderOptions) before any work.
 */
export const variantRenderOptions = (values: Values): RenderMediaSettings & {concurrency: number | string | null} => {
	const options: RenderMediaSettings = {
		codec: values.codec as Codec | undefined,
		crf: numberFlag('crf', values.crf, 'a number in the codec\'s range (h264: 1–51)'),
		scale: numberFlag('scale', values.scale, RENDER_FLAG_ACCEPTED.scale),
		frameRange: values.frames === undefined ? undefined : parseFramesFlag(values.frames),
		everyNthFrame: numberFlag('every-nth-frame', values['every-nth-frame'], RENDER_FLAG_ACCEPTED.everyNthFrame, true),
		timeoutInMilliseconds: numberFlag('timeout', values.timeout, RENDER_FLAG_ACCEPTED.timeout, true),
		logLevel: values.log as LogLevel | undefined,
		jpegQuality: numberFlag('jpeg-quality', values['jpeg-quality'], RENDER_FLAG_ACCEPTED.jpegQuality),
		pixelFormat: values['pixel-format'] as PixelFormat | undefined,
		imageFormat: values['image-format'] as 'jpeg' | 'png' | undefined,
		muted: values.muted,
		audioCodec: values['audio-codec'] as AudioCodec | undefined,
	};
	// unset flags stay out, so the batch's defaults apply
	const set = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as RenderMediaSettings;
	validateRenderOptions(set);
	return {...set, concurrency: concurrencyFlag(values.concurrency)};
};
