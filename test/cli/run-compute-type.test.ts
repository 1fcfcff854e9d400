import {execFile} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {promisify} from 'node:util';
import {afterAll, expect, it} from 'vitest';

const execute = promisify(execFile);
const root = mkdtempSync(path.join(os.tmpdir(), 'fatezero-run-fp16-'));
afterAll(() => rmSync(root, {recursive: true, force: true}));
const bin = path.resolve('bin/fatezero.js');
const footage = path.resolve('../shared/footage/car-turn');

const run = async (computeType: string | null) => {
	const args = [bin, 'run', path.join(root, 'clip.json'), '--model', 'generated:tiny', '--cache-dir', path.join(root, 'cache'), '--public-dir', path.join(root, 'public')];
	if (computeType) args.push('--compute-type', computeType);
	const {stdout} = await execute(process.execPath, args, {cwd: root, env: {...process.env, FATEZERO_COMPUTE_TYPE: ''}});
	return JSON.parse(stdout.trim().split('\n').at(-1)!) as {key: string; status: string};
};

it('fatezero run --compute-type float16 computes its own clip on the CPU, under its own key', async () => {
	const clip = {source: footage, sourcePrompt: 'a silver jeep driving down a curvy road', prompt: 'a red jeep driving down a curvy road', frames: {start: 0, count: 2, stride: 1}, size: 64, steps: 2};
	writeFileSync(path.join(root, 'clip.json'), JSON.stringify(clip));
	const fp32 = await run(null);
	const fp16 = await run('float16');
	expect(fp32.status).toBe('computed');
	expect(fp16.status).toBe('computed');
	expect(fp16.key).not.toBe(fp32.key);
	expect(await run('float16')).toMatchObject({key: fp16.key, status: 'hit'});
	expect(await run('float32')).toMatchObject({key: fp32.key, status: 'hit'});
});
