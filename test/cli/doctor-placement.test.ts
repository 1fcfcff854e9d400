import {execFile} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {promisify} from 'node:util';
import {afterAll, describe, expect, it} from 'vitest';
import {placementReport, type ProfiledNode} from '../../plugin/runtime/profile-report.js';

const execute = promisify(execFile);
const root = mkdtempSync(path.join(os.tmpdir(), 'fatezero-placement-'));
afterAll(() => rmSync(root, {recursive: true, force: true}));

describe('fatezero doctor --placement', () => {
	it('prints nodes per provider and memory copies for every graph of an edit; on the CPU provider it passes', async () => {
		const {stdout} = await execute(process.execPath, [path.resolve('bin/fatezero.js'), 'doctor', '--model', 'generated:tiny', '--cache-dir', path.join(root, 'cache'), '--placement', '--compute-type', 'float16', '--json']);
		expect(stdout).toMatch(/Placement {4}cpu, float16, 64² × 2 frames/);
		expect(stdout).toMatch(/unet +CPUExecutionProvider +\d+ nodes/);
		expect(stdout).toMatch(/memory copies 0/);
		const summary = JSON.parse(stdout.trim().split('\n').at(-1)!) as {placement: {ok: boolean; graphs: Record<string, {nodesByProvider: Record<string, number>; zeroDimensionInputs: number}>}};
		expect(summary.placement.ok).toBe(true);
		expect(Object.keys(summary.placement.graphs)).toEqual(['text-encoder', 'vae-encoder', 'unet', 'vae-decoder']);
		for (const graph of Object.values(summary.placement.graphs)) {
			expect(Object.keys(graph.nodesByProvider)).toEqual(['CPUExecutionProvider']);
			expect(graph.zeroDimensionInputs).toBe(0);
		}
	});

	it('a heavy node on the CPU under a GPU provider fails the check; shape arithmetic on the CPU does not', () => {
		const node = (name: string, opType: string, provider: string): ProfiledNode => ({name, opType, provider, inputShapes: [[2, 4]], outputShapes: [[2, 4]], durationUs: 1});
		const fine = placementReport([node('a', 'MatMul', 'CUDAExecutionProvider'), node('b', 'Shape', 'CPUExecutionProvider'), node('c', 'MemcpyToHost', 'CUDAExecutionProvider')], 'cuda');
		expect(fine).toMatchObject({ok: true, memoryCopies: 1, nodesByProvider: {CUDAExecutionProvider: 2, CPUExecutionProvider: 1}});
		const fallback = placementReport([node('a', 'FusedMatMul', 'CPUExecutionProvider'), node('n', 'InstanceNormalization', 'CPUExecutionProvider'), node('m', 'MultiHeadAttention', 'WebGpuExecutionProvider')], 'webgpu');
		expect(fallback.ok).toBe(false);
		expect(fallback.heavyNodesOnCpu.map((n) => n.opType)).toEqual(['FusedMatMul', 'InstanceNormalization']);
		// the same nodes are expected under the CPU provider
		expect(placementReport([node('a', 'FusedMatMul', 'CPUExecutionProvider')], 'cpu').ok).toBe(true);
	});
});
