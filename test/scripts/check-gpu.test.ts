import {execFile} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {promisify} from 'node:util';
import {afterAll, expect, it} from 'vitest';

const execute = promisify(execFile);
const root = mkdtempSync(path.join(os.tmpdir(), 'fatezero-check-gpu-test-'));
afterAll(() => rmSync(root, {recursive: true, force: true}));

// CI runs the GPU check as a dry run on the CPU provider: the whole sequence at tiny sizes, so the
// script is known to work before a GPU session spends its minutes on it.
it('npm run check:gpu -- --dry-run --execution-provider cpu writes the report with every section', {timeout: 600_000}, async () => {
	const out = path.join(root, 'check.json');
	await execute(process.execPath, ['--import', 'tsx', 'scripts/check-gpu.ts', '--dry-run', '--execution-provider', 'cpu', '--out', out], {maxBuffer: 1 << 26});
	const report = JSON.parse(readFileSync(out, 'utf8'));
	console.log(`check:gpu dry run report: ${JSON.stringify({...report, placement: Object.fromEntries(Object.entries(report.placement as Record<string, {ok: boolean; graphs: Record<string, unknown>}>).map(([k, v]) => [k, {ok: v.ok, unet: v.graphs.unet}]))})}`);
	expect(report).toMatchObject({dryRun: true, ok: true, failures: [], provider: {requested: 'cpu', available: true, boundTo: 'CPUExecutionProvider', onnxruntimeNode: expect.any(String)}});
	for (const computeType of ['float16', 'float32']) {
		const placement = report.placement[computeType];
		expect(placement.ok).toBe(true);
		expect(Object.keys(placement.graphs)).toEqual(['text-encoder', 'vae-encoder', 'unet', 'vae-decoder']);
		expect(placement.graphs.unet.nodesByProvider.CPUExecutionProvider).toBeGreaterThan(100);
		expect(placement.graphs.unet.memoryCopies).toBe(0);
	}
	expect(report.parity.reconstruct.maxDifference8bit).toBe(0); // the CPU against itself
	for (const source of ['recompute', 'stored']) {
		const {fp32VsCpuFp32, fp16VsCpuFp32} = report.parity.edit[source];
		expect(fp32VsCpuFp32.editedMaxAbs).toBe(0);
		expect(fp16VsCpuFp32.editedRelativeRms).toBeGreaterThan(0); // fp16 really ran
		expect(fp16VsCpuFp32.editedRelativeRms).toBeLessThan(0.05);
	}
	for (const computeType of ['float16', 'float32']) {
		for (const batch of ['batch1', 'batch2']) {
			expect(report.unet[computeType][batch].msPerFrameCall).toBeGreaterThan(0);
			expect(report.unet[computeType][batch].tflops).toBeGreaterThanOrEqual(0);
		}
	}
	expect(report.fatezero).toMatchObject({frames: 2, steps: 3, size: 64, secondsByStage: {invert: expect.any(Number), edit: expect.any(Number), decode: expect.any(Number)}});
});
