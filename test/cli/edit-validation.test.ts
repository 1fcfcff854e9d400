import {mkdtempSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterAll, describe, expect, it, vi} from 'vitest';
import {editCommand} from '../../plugin/cli/edit-command.js';
import {isFateZeroError} from '../../plugin/errors/fatezero-error.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'fatezero-edit-validation-'));
afterAll(() => rmSync(root, {recursive: true, force: true}));

// `fatezero edit` refuses what the clip descriptor refuses, before any model or frame is read.
const refusal = async (args: string[]): Promise<string> => {
	const spy = vi.spyOn(console, 'log').mockImplementation(() => undefined);
	try {
		const error = await editCommand(['--frames', path.join(root, 'frames'), '--out', path.join(root, 'out'), ...args]).then(
			() => null,
			(e: unknown) => e,
		);
		expect(isFateZeroError(error, 'INVALID_OPTION'), String(error)).toBe(true);
		return (error as Error).message;
	} finally {
		spy.mockRestore();
	}
};

describe('fatezero edit validates like the descriptor (issue 16)', () => {
	it('an empty or blank prompt is refused', async () => {
		expect(await refusal(['--source-prompt', 'a jeep', '--prompt', ''])).toMatch(/--prompt is "".*non-blank prompt/);
		expect(await refusal(['--source-prompt', '   ', '--prompt', 'a car'])).toMatch(/--source-prompt is "   "/);
		expect(await refusal(['--source-prompt', 'a jeep', '--prompt', 'a car', '--prompt', ' '])).toMatch(/--prompt 2 is " "/);
	});

	it('negative guidance and steps beyond the scheduler are refused', async () => {
		expect(await refusal(['--source-prompt', 'a jeep', '--prompt', 'a car', '--guidance=-1'])).toMatch(/--guidance is -1; it must be a number ≥ 0/);
		expect(await refusal(['--source-prompt', 'a jeep', '--prompt', 'a car', '--steps', '1000'])).toMatch(/--steps is 1000; it must be a whole number from 1 to 999/);
	});
});
