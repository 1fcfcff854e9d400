import {FateZeroError} from '../errors/fatezero-error.js';

/** Every `stride`-th source frame from `start` (FateZero's `start_sample_frame`, `n_sample_frame`, `sampling_rate`). */
export type StrideSelection = {
	/** Index of the first source frame. Default 0. */
	start?: number;
	/** Number of frames. Default: as many as the source has from `start`. */
	count?: number;
	/** Take every `stride`-th frame. Default 1. */
	stride?: number;
};

/** Frames resampled to a target rate: frame k is the source frame nearest to time start/fps_source + k/fps. */
export type FpsSelection = {
	start?: number;
	count?: number;
	/** Target frame rate in frames per second (video sources only). */
	fps: number;
};

export type FrameSelection = StrideSelection | FpsSelection;

export const isFpsSelection = (selection: FrameSelection): selection is FpsSelection => 'fps' in selection && (selection as FpsSelection).fps !== undefined;

/** The selection written out as the user would, for messages: "start=0 count=8 stride=2". */
export const describeSelection = (selection: FrameSelection): string => {
	const parts = [`start=${selection.start ?? 0}`, `count=${selection.count ?? 'all'}`];
	if (isFpsSelection(selection)) parts.push(`fps=${selection.fps}`);
	else parts.push(`stride=${selection.stride ?? 1}`);
	return parts.join(' ');
};

const checkInteger = (name: string, value: unknown, min: number): void => {
	if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
		throw new FateZeroError('INVALID_OPTION', `frames.${name} is ${JSON.stringify(value)}; it must be an integer ≥ ${min}.`);
	}
};

/** Checks the selection's own fields (before the source is opened), so bad options fail fast. */
export const validateFrameSelection = (selection: FrameSelection): void => {
	if (selection === null || typeof selection !== 'object') {
		throw new FateZeroError('INVALID_OPTION', `frames is ${JSON.stringify(selection)}; pass {start, count, stride} or {start, count, fps}.`);
	}
	if (selection.start !== undefined) checkInteger('start', selection.start, 0);
	if (selection.count !== undefined) checkInteger('count', selection.count, 1);
	const stride = (selection as StrideSelection).stride;
	if (isFpsSelection(selection)) {
		if (stride !== undefined) {
			throw new FateZeroError('INVALID_OPTION', `frames has both stride=${stride} and fps=${selection.fps}; give one of them (stride picks every n-th frame, fps resamples to a frame rate).`);
		}
		if (typeof selection.fps !== 'number' || !Number.isFinite(selection.fps) || selection.fps <= 0) {
			throw new FateZeroError('INVALID_OPTION', `frames.fps is ${JSON.stringify(selection.fps)}; it must be a positive number of frames per second.`);
		}
	} else if (stride !== undefined) {
		checkInteger('stride', stride, 1);
	}
};

// Frame k of an fps selection on a constant-rate source: nearest frame to start + k·(fps_source/fps),
// halves rounding up. The epsilon keeps exact halves (30 → 12 fps gives 2.5) from rounding down through float error.
const fpsIndex = (start: number, k: number, ratio: number): number => Math.floor(start + k * ratio + 0.5 + 1e-9);

// Frames closer in time than this count as equally near: matroska/webm store milliseconds.
const TIME_TIE = 1e-3;

/** Index of the frame nearest to time `t` in ascending `times`; on a tie the later frame, like rounding halves up. */
const nearestFrame = (times: number[], t: number): number => {
	let lo = 0;
	let hi = times.length;
	while (lo < hi) {
		const mid = (lo + hi) >> 1;
		if (times[mid] < t) lo = mid + 1;
		else hi = mid;
	}
	if (lo === 0) return 0;
	if (lo === times.length) return times.length - 1;
	return t - times[lo - 1] < times[lo] - t - TIME_TIE ? lo - 1 : lo;
};

/**
 * What is known about a source's timing: its average rate and, for variable-rate videos, each frame's
 * presentation time (leave it null for constant-rate sources, whose rounded timestamps would only add noise).
 */
export type FrameTiming = {fps: number | null; frameTimes: number[] | null};

/**
 * Source frame indices for a selection: index i of the result is the source frame that becomes frame i.
 * fps selections need the source's timing: at a constant rate frame k is round(start + k·fps_source/fps)
 * (the frame nearest to start/fps_source + k/fps); with frame times (variable-rate videos) it is the
 * frame nearest to time(start) + k/fps. Frame folders have neither.
 */
export const resolveFrameIndices = (selection: FrameSelection, available: number, timing: FrameTiming | null, sourceLabel: string): number[] => {
	validateFrameSelection(selection);
	const start = selection.start ?? 0;
	let step: (k: number) => number;
	let fitting: number;
	if (isFpsSelection(selection)) {
		const fps = selection.fps;
		const times = timing?.frameTimes && timing.frameTimes.length >= available && available > 1 ? timing.frameTimes.slice(0, available) : null;
		const sourceFps = timing?.fps ?? null;
		if (times === null && (sourceFps === null || !(sourceFps > 0))) {
			throw new FateZeroError(
				'INVALID_OPTION',
				`frames.fps=${fps} needs the source's frame rate, but ${sourceLabel} has none (a frame folder has no timing). Use frames.stride instead (stride 2 keeps every 2nd frame).`,
			);
		}
		let fits: (k: number) => boolean;
		let estimate: number;
		if (times !== null && start < available) {
			const origin = times[start];
			// A time belongs to the last frame up to half that frame's duration past its start.
			const end = times[available - 1] + (times[available - 1] - times[available - 2]) / 2 - TIME_TIE;
			step = (k) => nearestFrame(times, origin + k / fps);
			fits = (k) => origin + k / fps < end;
			estimate = Math.ceil((end - origin) * fps);
		} else {
			const ratio = (sourceFps ?? fps) / fps;
			step = (k) => fpsIndex(start, k, ratio);
			fits = (k) => step(k) < available;
			estimate = Math.ceil((available - start - 0.5) / ratio);
		}
		// The closed-form estimate, corrected by a step or two for float rounding.
		fitting = start < available ? Math.max(0, estimate) : 0;
		while (fitting > 0 && !fits(fitting - 1)) fitting--;
		while (start < available && fits(fitting)) fitting++;
	} else {
		const stride = selection.stride ?? 1;
		step = (k) => start + k * stride;
		fitting = start < available ? Math.floor((available - 1 - start) / stride) + 1 : 0;
	}
	const count = selection.count ?? fitting;
	if (count < 1 || count > fitting) {
		// Nearest-frame lookups clamp at the last frame, so past the end estimate the index from the rate.
		const pastEnd = isFpsSelection(selection) && count >= 1 ? Math.round(start + ((count - 1) * (timing?.fps ?? selection.fps)) / selection.fps) : null;
		const needed = count < 1 ? start : pastEnd ?? step(count - 1);
		const advice =
			available === 0
				? 'No frame of it could be read; check that the source is a complete, playable video or frame folder.'
				: fitting > 0
				? `At most ${fitting} frame${fitting === 1 ? '' : 's'} fit from start=${start}; lower frames.count${isFpsSelection(selection) ? ' or frames.fps' : ' or frames.stride'}, or start earlier.`
				: `start=${start} is past the last frame (index ${available - 1}); lower frames.start.`;
		throw new FateZeroError('INVALID_OPTION', `Frame selection ${describeSelection(selection)} needs source frame ${needed} (frames are numbered from 0), but ${sourceLabel} has only ${available} frame${available === 1 ? '' : 's'}. ${advice}`);
	}
	return Array.from({length: count}, (_, k) => step(k));
};
