import {describe, expect, it} from 'vitest';
import {checkGuidance, checkPrompt, checkSize, checkSteps, CLIP_LIMITS, displayLabel, parseJsonWithLimits} from '../../plugin/clip/clip-limits.js';
import {parseClipDescriptor} from '../../plugin/clip/fatezero-clip.js';
import {DdimScheduler} from '../../plugin/diffusion/ddim-scheduler.js';
import {isFateZeroError} from '../../plugin/errors/fatezero-error.js';

const base = {source: 'clip.mp4', sourcePrompt: 'a jeep', prompt: 'a car'};

const refusal = (fn: () => unknown): string => {
	try {
		fn();
	} catch (error) {
		// a clean option error, never a crash (RangeError, TypeError) that the CLI reports as a bug
		expect(isFateZeroError(error, 'INVALID_OPTION')).toBe(true);
		return (error as Error).message;
	}
	throw new Error('expected a refusal');
};

describe('one validation for every entry point (issue 16)', () => {
	it('steps: the schema accepts exactly the scheduler range', () => {
		expect(refusal(() => parseClipDescriptor({...base, steps: 1000}))).toMatch(/steps: expected a whole number in \[1, 999\], got 1000/);
		const accepted = parseClipDescriptor({...base, steps: CLIP_LIMITS.maxSteps}).steps;
		// the largest accepted step count must run on the scheduler (its first timestep < 1000)
		const scheduler = new DdimScheduler();
		expect(Math.max(...scheduler.timesteps(accepted))).toBeLessThan(1000);
		expect(refusal(() => checkSteps(1000, '--steps'))).toMatch(/--steps is 1000/);
	});

	it('size: bounded, a multiple of 8 in the schema and of what the model needs before any import', () => {
		expect(refusal(() => parseClipDescriptor({...base, size: 100000}))).toMatch(/size: expected a whole number from 8 to 1024/);
		expect(parseClipDescriptor({...base, size: 1024}).size).toBe(1024);
		expect(refusal(() => checkSize(72, 'size', {unetLevels: 4, dir: '/models/sd'}))).toMatch(/multiple of 64 \(the model \/models\/sd has 4 UNet levels.*e\.g\. 64/);
		expect(checkSize(128, 'size', {unetLevels: 4})).toBe(128);
		expect(checkSize(48, "size", {unetLevels: 2})).toBe(48);
	});

	it('prompts: non-blank and bounded', () => {
		expect(refusal(() => parseClipDescriptor({...base, prompt: '   '}))).toMatch(/prompt: "   " is blank/);
		expect(refusal(() => parseClipDescriptor({...base, sourcePrompt: '\n\t'}))).toMatch(/sourcePrompt: .* is blank/);
		expect(refusal(() => parseClipDescriptor({...base, prompt: 'a'.repeat(CLIP_LIMITS.maxPromptChars + 1)}))).toMatch(/at most 1000 characters/);
		expect(refusal(() => checkPrompt('', '--prompt'))).toMatch(/--prompt is "".*non-blank/);
		expect(refusal(() => checkGuidance(-1, '--guidance'))).toMatch(/--guidance is -1; it must be a number ≥ 0/);
	});

	it('labels: bounded in the schema, cut for display', () => {
		expect(refusal(() => parseClipDescriptor({...base, label: 'x'.repeat(1_000_000)}))).toMatch(/label: expected a string of at most 1000 characters/);
		const long = `${'long label '.repeat(20)}\nsecond line`;
		const shown = displayLabel(long);
		expect([...shown].length).toBe(CLIP_LIMITS.displayLabelChars);
		expect(shown.endsWith('…')).toBe(true);
		expect(shown).not.toContain('\n');
		expect(displayLabel('short')).toBe('short');
	});

	it('JSON: a deeply nested descriptor is refused, not a stack overflow', () => {
		let deep: unknown = 1;
		for (let i = 0; i < 200_000; i++) deep = {a: deep};
		expect(refusal(() => parseClipDescriptor({...base, edit: {reweight: deep}}))).toMatch(/nested more than 64 levels/);
		const text = `${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`;
		expect(refusal(() => parseJsonWithLimits(text, 'clip.json'))).toMatch(/clip\.json is nested more than 64 levels/);
		// brackets inside strings do not count
		expect(parseJsonWithLimits(JSON.stringify({prompt: '[[[[{{{{'.repeat(100)}), 'x')).toEqual({prompt: '[[[[{{{{'.repeat(100)});
		expect(refusal(() => parseJsonWithLimits(JSON.stringify({label: 'x'.repeat(100)}), 'request body', {maxBytes: 50}))).toMatch(/request body is 112 bytes of JSON; the limit is 50/);
		expect(refusal(() => parseJsonWithLimits('{"a":', 'props'))).toMatch(/props is not valid JSON/);
	});
});
