import {execFile} from 'node:child_process';
import {readdirSync, readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {promisify} from 'node:util';
import {describe, expect, it} from 'vitest';
import {DdimScheduler} from '../../plugin/diffusion/ddim-scheduler.js';
import {x0FromLatentPair} from '../../plugin/jobs/live-preview.js';
import {tempWorkspace, writeFrames} from './studio-test-helpers.js';

// Live previews (issue 13 item 2): the x0 a preview decodes, and `fatezero run --preview-dir`.

const execute = promisify(execFile);
const workspace = tempWorkspace('live-preview');

describe('live previews', () => {
	it('recovers x0 from two latents of one DDIM trajectory, as the scheduler steps it', () => {
		const scheduler = new DdimScheduler();
		const [t] = scheduler.setTimesteps(10);
		const x0 = Float32Array.from({length: 64}, (_, i) => Math.sin(i));
		const eps = Float32Array.from({length: 64}, (_, i) => Math.cos(3 * i));
		const alpha = scheduler.alphasCumprod[t];
		const zt = x0.map((v, i) => Math.sqrt(alpha) * v + Math.sqrt(1 - alpha) * eps[i]);
		const next = scheduler.step(eps, t, zt);
		const recovered = x0FromLatentPair(zt, alpha, next, scheduler.alphasCumprod[t - scheduler.stepRatio]);
		for (let i = 0; i < x0.length; i++) expect(recovered[i]).toBeCloseTo(x0[i], 3);
	});

	it('writes previews of the inversion and the edit into --preview-dir (fatezero run)', async () => {
		await writeFrames(path.join(workspace, 'frames'), {count: 2, size: 64});
		const clip = {source: 'frames', sourcePrompt: 'a silver jeep', prompt: 'a red jeep', frames: {count: 2}, size: 64, steps: 4, leastScChannel: 64};
		writeFileSync(path.join(workspace, 'clip.json'), JSON.stringify(clip));
		const previews = path.join(workspace, 'previews');
		const {stdout} = await execute(process.execPath, [path.resolve('bin/fatezero.js'), 'run', path.join(workspace, 'clip.json'), '--model', 'generated:tiny', '--cache-dir', path.join(workspace, 'cache'), '--preview-dir', previews, '--json-progress'], {cwd: workspace});
		expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toMatchObject({status: 'computed'});
		const files = readdirSync(previews).sort();
		// the first step of each stage always gets one (nothing spent yet); later ones within the time share
		expect(files).toContain('invert-0001.png');
		expect(files).toContain('edit-0001.png');
		expect(files).toContain('latest.png');
		expect(files.filter((name) => name.startsWith('.'))).toEqual([]);
		expect(readFileSync(path.join(previews, 'latest.png')).subarray(1, 4).toString()).toBe('PNG');
	});
});
