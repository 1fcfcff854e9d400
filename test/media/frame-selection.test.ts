import {describe, expect, it} from 'vitest';
import {isFateZeroError} from '../../plugin/errors/fatezero-error.js';
import {resolveFrameIndices} from '../../plugin/media/frame-selection.js';
import {compareFrameNames} from '../../plugin/media/list-frame-files.js';
import {compositorPackageName, resolveCompositorBinaries} from '../../plugin/media/compositor-binaries.js';

const cfr = (fps: number, count: number) => ({fps, frameTimes: Array.from({length: count}, (_, i) => (i * 512) / (512 * fps))});

describe('resolveFrameIndices', () => {
	it('stride: start + k·stride, count defaulting to what fits (FateZero sampling_rate)', () => {
		expect(resolveFrameIndices({}, 5, null, 'x')).toEqual([0, 1, 2, 3, 4]);
		expect(resolveFrameIndices({start: 2, stride: 3}, 10, null, 'x')).toEqual([2, 5, 8]);
		expect(resolveFrameIndices({start: 0, count: 8, stride: 8}, 57, null, 'x')).toEqual([0, 8, 16, 24, 32, 40, 48, 56]);
	});

	it('fps with frame times (variable-rate sources) agrees with the constant-rate formula on constant-rate times', () => {
		// Times within 1 ms count as a tie (matroska stores milliseconds), so rates whose candidates differ by
		// less than that (29.97 → 12) may pick the later frame; constant-rate sources use the formula instead.
		for (const [source, target] of [
			[30, 12],
			[30, 10],
			[24, 8],
			[25, 10],
			[10, 30],
			[60, 24],
		]) {
			const count = 90;
			const withTimes = resolveFrameIndices({start: 3, fps: target}, count, cfr(source, count), 'x');
			const withRate = resolveFrameIndices({start: 3, fps: target}, count, {fps: source, frameTimes: null}, 'x');
			expect(withTimes, `${source} → ${target}`).toEqual(withRate);
			expect(withTimes[withTimes.length - 1]).toBeLessThan(count);
		}
	});

	it('fps keeps frames only while the target time is inside the clip', () => {
		// 10 frames at 10 fps last 1 s; at 4 fps that is times 0, .25, .5, .75 (1.0 is past the last frame's half).
		expect(resolveFrameIndices({fps: 4}, 10, cfr(10, 10), 'x')).toEqual([0, 3, 5, 8]);
		expect(resolveFrameIndices({fps: 4}, 10, {fps: 10, frameTimes: null}, 'x')).toEqual([0, 3, 5, 8]);
	});

	it('errors name the selection, the source and what fits', () => {
		const error = (() => {
			try {
				resolveFrameIndices({start: 4, count: 10, stride: 2}, 12, null, 'clip.mp4');
			} catch (e) {
				return e;
			}
		})();
		expect(isFateZeroError(error, 'INVALID_OPTION')).toBe(true);
		expect((error as Error).message).toBe(
			'Frame selection start=4 count=10 stride=2 needs source frame 22 (frames are numbered from 0), but clip.mp4 has only 12 frames. At most 4 frames fit from start=4; lower frames.count or frames.stride, or start earlier.',
		);
	});
});

describe('frame name order', () => {
	it('numbers compare as numbers, zero padding and letter case never depend on the locale', () => {
		const names = ['frame10.png', 'frame2.png', 'frame1.png', 'Frame3.png', 'frame02.png', '00010.png', '00009.png'];
		expect([...names].sort(compareFrameNames)).toEqual(['00009.png', '00010.png', 'Frame3.png', 'frame1.png', 'frame02.png', 'frame2.png', 'frame10.png']);
		// Zero-padded names sort as plain strings do (the official code's order).
		const padded = Array.from({length: 120}, (_, i) => `${String(i).padStart(5, '0')}.png`);
		expect([...padded].reverse().sort(compareFrameNames)).toEqual([...padded].sort());
	});
});

describe('compositor binaries', () => {
	it('names the platform package as Remotion does', () => {
		expect(compositorPackageName('linux', 'x64', false)).toBe('@remotion/compositor-linux-x64-gnu');
		expect(compositorPackageName('linux', 'arm64', true)).toBe('@remotion/compositor-linux-arm64-musl');
		expect(compositorPackageName('darwin', 'arm64', false)).toBe('@remotion/compositor-darwin-arm64');
		expect(compositorPackageName('win32', 'x64', false)).toBe('@remotion/compositor-win32-x64-msvc');
		expect(compositorPackageName('freebsd', 'x64', false)).toBeNull();
	});

	it('finds ffmpeg and ffprobe in the installed compositor package', () => {
		const binaries = resolveCompositorBinaries();
		expect(binaries.dir).toMatch(/@remotion[/\\]compositor-/);
		expect(binaries.ffmpeg).toMatch(/ffmpeg(\.exe)?$/);
		expect(binaries.ffprobe).toMatch(/ffprobe(\.exe)?$/);
	});
});
