import {execFileSync} from 'node:child_process';
import {cpSync, existsSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {isFateZeroError} from '../../plugin/errors/fatezero-error.js';
import {entryDir} from '../../plugin/frame-cache/cache-layout.js';
import {gcCache, type GcReport} from '../../plugin/frame-cache/cache-maintenance.js';
import {EnginePool} from '../../plugin/jobs/engine-pool.js';
import type {JobProgress} from '../../plugin/jobs/job-progress.js';
import {runClipJob} from '../../plugin/jobs/run-clip-job.js';
import {readSafetensorsIndex} from '../../plugin/model/safetensors-file.js';
import {tempWorkspace, testClip, tinyModel, writeFrames} from './job-test-helpers.js';

// Issue 16 at the level of a clip job: nothing corrupt is built upon or served, gc leaves a
// running job's entries alone, bad sizes and sources fail before any import.

const workspace = tempWorkspace('jobs-integrity');
const pool = new EnginePool({cacheDir: path.join(workspace, 'cache-pool')});
let n = 0;
const freshCache = () => path.join(workspace, `cache-${++n}`);

beforeAll(async () => {
	tinyModel(workspace);
	await writeFrames(path.join(workspace, 'frames'));
});
afterAll(() => pool.dispose());

const descriptor = (overrides: Record<string, unknown> = {}) => testClip({model: 'tiny-model', ...overrides});

describe('clip jobs and the cache (issue 16)', () => {
	it('gc --keep-days 0 while a job runs removes nothing it uses; the job completes', async () => {
		const cacheDir = freshCache();
		let gc: Promise<GcReport> | null = null;
		const onProgress = (event: JobProgress) => {
			// the source is published and the inversion is running: the moment the old gc deleted both
			if (event.stage === 'invert' && gc === null) gc = gcCache(cacheDir, {keepDays: 0});
		};
		const result = await runClipJob({descriptor: descriptor(), cacheDir, projectRoot: workspace, pool, onProgress});
		expect(result.status).toBe('computed');
		const report = await gc!;
		expect(report.removed).toEqual([]);
		expect(report.skipped).toContainEqual({kind: 'sources', key: result.sourceKey, reason: 'in use'});
		expect(existsSync(entryDir(cacheDir, 'sources', result.sourceKey))).toBe(true);
		// once the job is over, nothing is held
		const after = await gcCache(cacheDir, {keepDays: 0});
		expect(after.removed.map((r) => r.kind).sort()).toEqual(['clips', 'inversions', 'sources']);
		expect(after.leftovers.some((file) => file.includes(`${path.sep}index${path.sep}`))).toBe(true);
	});

	it('a clip frame corrupted in place is recomputed, not served as a hit', async () => {
		const cacheDir = freshCache();
		const first = await runClipJob({descriptor: descriptor(), cacheDir, projectRoot: workspace, pool});
		const frame = path.join(first.path, '00001.png');
		const bytes = readFileSync(frame);
		bytes[bytes.length >> 1] ^= 0xff;
		writeFileSync(frame, bytes);
		const second = await runClipJob({descriptor: descriptor(), cacheDir, projectRoot: workspace, pool});
		expect(second.status).not.toBe('hit');
		expect(second.statuses.inversion).toBe('hit');
		expect(readFileSync(path.join(second.path, '00001.png'))).not.toEqual(bytes);
	});

	it('a size the model cannot take fails before any import', async () => {
		const cacheDir = freshCache();
		// the tiny UNet has 3 levels: multiples of 32
		const error = await runClipJob({descriptor: descriptor({size: 72}), cacheDir, projectRoot: workspace, pool}).catch((e: unknown) => e);
		expect(isFateZeroError(error, 'INVALID_OPTION'), String(error)).toBe(true);
		expect((error as Error).message).toMatch(/^size is 72; it must be a whole multiple of 32 \(the model .*tiny-model has 3 UNet levels/);
		expect(existsSync(path.join(cacheDir, 'sources'))).toBe(false);
	});

	it('a model that produces NaN publishes nothing: the error names the stage', async () => {
		const cacheDir = freshCache();
		// a copy of the tiny model whose UNet output bias is NaN (as a float16 overflow would make it)
		const model = path.join(workspace, 'nan-model');
		cpSync(path.join(workspace, 'tiny-model'), model, {recursive: true});
		const weights = readdirSync(path.join(model, 'unet')).find((name) => name.endsWith('.safetensors'))!;
		const file = path.join(model, 'unet', weights);
		const bias = readSafetensorsIndex(file).tensors.get('conv_out.bias')!;
		const bytes = readFileSync(file);
		for (let i = 0; i < bias.byteLength; i += 4) bytes.writeFloatLE(Number.NaN, bias.byteOffset + i);
		writeFileSync(file, bytes);
		const error = await runClipJob({descriptor: descriptor({model: 'nan-model'}), cacheDir, projectRoot: workspace, pool}).catch((e: unknown) => e);
		expect(isFateZeroError(error, 'INFERENCE_FAILED'), String(error)).toBe(true);
		expect((error as Error).message).toMatch(/^The inversion stage produced \d+ non-finite values .* Nothing was published/);
		expect(existsSync(path.join(cacheDir, 'inversions')) ? readdirSync(path.join(cacheDir, 'inversions')).filter((name) => !name.startsWith('.')) : []).toEqual([]);
		expect(existsSync(path.join(cacheDir, 'clips'))).toBe(false);
	});

	it('a cache directory that is a file is named, not an unexpected ENOTDIR', async () => {
		const file = path.join(workspace, 'cache-is-a-file');
		writeFileSync(file, 'x');
		const error = await runClipJob({descriptor: descriptor({model: 'generated:tiny'}), cacheDir: file, projectRoot: workspace, pool}).catch((e: unknown) => e);
		expect(isFateZeroError(error, 'INVALID_OPTION'), String(error)).toBe(true);
		expect((error as Error).message).toContain(`The cache directory ${file} is a file, not a folder`);
	});

	it.skipIf(process.platform === 'win32')('a FIFO source fails at once instead of hanging the queue', async () => {
		const fifo = path.join(workspace, 'live.mp4');
		execFileSync('mkfifo', [fifo]);
		const error = await runClipJob({descriptor: descriptor({source: 'live.mp4'}), cacheDir: freshCache(), projectRoot: workspace, pool}).catch((e: unknown) => e);
		expect(isFateZeroError(error, 'INVALID_INPUT'), String(error)).toBe(true);
		expect((error as Error).message).toMatch(/live\.mp4 is a named pipe \(FIFO\)/);
	});
});
