import {execFile} from 'node:child_process';
import {mkdirSync, mkdtempSync, readdirSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {promisify} from 'node:util';
import sharp from 'sharp';
import {afterAll, describe, expect, it} from 'vitest';
import {footageDir, hasFootage} from '../helpers/golden.js';

const run = promisify(execFile);
const bin = path.resolve('bin/fatezero.js');
const root = mkdtempSync(path.join(os.tmpdir(), 'fatezero-doctor-'));
afterAll(() => rmSync(root, {recursive: true, force: true}));

const fatezero = async (args: string[], env: Record<string, string> = {}) => {
	try {
		const {stdout, stderr} = await run(process.execPath, [bin, ...args], {env: {...process.env, FATEZERO_MODEL: 'generated:tiny', ...env}, timeout: 120_000});
		return {code: 0, stdout, stderr};
	} catch (error) {
		const e = error as {code: number; stdout: string; stderr: string};
		return {code: e.code, stdout: e.stdout, stderr: e.stderr};
	}
};

/** Real footage when ../shared is there; otherwise frames made here (a moving gradient). */
const framesDir = async (): Promise<string> => {
	if (hasFootage) return path.join(footageDir, 'car-turn');
	const dir = path.join(root, 'frames');
	mkdirSync(dir, {recursive: true});
	for (let f = 0; f < 4; f++) {
		const pixels = Buffer.alloc(64 * 64 * 3);
		for (let i = 0; i < 64 * 64; i++) pixels.set([(i % 64) * 4, (f * 40) % 256, ((i >> 6) * 4) % 256], i * 3);
		await sharp(pixels, {raw: {width: 64, height: 64, channels: 3}}).png().toFile(path.join(dir, `${String(f).padStart(5, '0')}.png`));
	}
	return dir;
};

describe('fatezero doctor', () => {
	it('with the generated model opted in (FATEZERO_MODEL=generated:tiny) says so, reconstructs frames and reports PSNR', async () => {
		const cacheDir = path.join(root, 'cache');
		const out = path.join(root, 'out');
		const frames = await framesDir();
		const result = await fatezero(['doctor', '--reconstruct', frames, '--frames-count', '4', '--steps', '3', '--cache-dir', cacheDir, '--out', out, '--json']);
		expect(result.code).toBe(0);
		expect(result.stdout).toContain('the generated tiny random-weight model');
		expect(result.stdout).toContain('noise-like');
		expect(result.stdout).toMatch(/Provider +cpu +✔/);
		expect(result.stdout).toMatch(/PSNR +reconstruction vs input \d+\.\d+ dB/);
		const summary = JSON.parse(result.stdout.trim().split('\n').at(-1)!);
		expect(summary.model.generated).toBe(true);
		expect(summary.reconstruction.frames).toBe(4);
		expect(summary.reconstruction.size).toBe(128);
		// random weights do not reconstruct, but the numbers must be real measurements
		expect(Number.isFinite(summary.reconstruction.psnrDb)).toBe(true);
		expect(summary.reconstruction.psnrDb).toBeGreaterThan(3);
		for (const sub of ['reconstructed', 'vae-round-trip', 'input']) {
			expect(readdirSync(path.join(out, sub))).toEqual(['00000.png', '00001.png', '00002.png', '00003.png']);
		}
		const meta = await sharp(path.join(out, 'reconstructed', '00000.png')).metadata();
		expect([meta.width, meta.height]).toEqual([128, 128]);
	});

	it('a missing model folder fails with its code and the fix', async () => {
		const result = await fatezero(['doctor', '--model', path.join(root, 'nope'), '--cache-dir', path.join(root, 'cache')]);
		expect(result.code).toBe(1);
		expect(result.stderr).toContain('does not exist. Pass --model DIR or set FATEZERO_MODEL');
		expect(result.stderr).toContain('MODEL_FOLDER_MISSING');
	});

	it('bad options are usage errors (exit 2) that point at --help', async () => {
		const unknown = await fatezero(['doctor', '--frobnicate']);
		expect(unknown.code).toBe(2);
		expect(unknown.stderr).toContain('Run "fatezero doctor --help"');
		const steps = await fatezero(['doctor', '--reconstruct', root, '--steps', 'ten', '--cache-dir', path.join(root, 'cache')]);
		expect(steps.code).toBe(2);
		expect(steps.stderr).toContain('--steps must be a whole number ≥ 1; got "ten"');
	});
});
