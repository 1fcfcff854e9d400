import {execFile} from 'node:child_process';
import {chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {promisify} from 'node:util';
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest';
import {isFateZeroError} from '../../plugin/errors/index.js';
import {nodeCacheFs, type CacheFs} from '../../plugin/frame-cache/cache-fs.js';
import {CACHE_KINDS, kindDir} from '../../plugin/frame-cache/cache-layout.js';
import {readIndex} from '../../plugin/frame-cache/descriptor-index.js';
import {EnginePool} from '../../plugin/jobs/engine-pool.js';
import {runClipJob} from '../../plugin/jobs/run-clip-job.js';
import {bundleCli, engineRuns, expectOnlyVerifiedEntries, runCli, tempWorkspace, testClip, tinyModel, writeFrames} from './job-test-helpers.js';

const workspace = tempWorkspace('jobs-bad');
let cli: string;
let model: string;

beforeAll(async () => {
	[cli] = await Promise.all([bundleCli(path.join(workspace, 'bin')), writeFrames(path.join(workspace, 'frames'))]);
	model = tinyModel(workspace);
	writeFileSync(path.join(workspace, 'zero.mp4'), '');
	writeFileSync(path.join(workspace, 'text.mp4'), 'This is a text file, not a video.\n');
	mkdirSync(path.join(workspace, 'no-images'));
	writeFileSync(path.join(workspace, 'no-images', 'notes.txt'), 'frames go here\n');
	writeFileSync(path.join(workspace, 'good.json'), JSON.stringify(testClip()));
});

/** Names under the cache's entry kinds and its index (empty when nothing was published). */
const published = (cacheDir: string): string[] =>
	[...CACHE_KINDS.map((kind) => kindDir(cacheDir, kind)), path.join(cacheDir, 'index')].flatMap((dir) => (existsSync(dir) ? readdirSync(dir).map((name) => `${path.basename(dir)}/${name}`) : []));

const BAD: {name: string; clip: Record<string, unknown>; code: 'INVALID_INPUT' | 'INVALID_OPTION'; message: RegExp}[] = [
	{name: 'a missing source path', clip: {source: 'missing.mp4'}, code: 'INVALID_INPUT', message: /Source \S+missing\.mp4 does not exist/},
	{name: 'a zero-byte .mp4', clip: {source: 'zero.mp4'}, code: 'INVALID_INPUT', message: /Video \S+zero\.mp4 is empty \(0 bytes\)/},
	{name: 'a text file named .mp4', clip: {source: 'text.mp4'}, code: 'INVALID_INPUT', message: /Video \S+text\.mp4 could not be read \(ffprobe: .*\)/},
	{name: 'a folder with no images', clip: {source: 'no-images'}, code: 'INVALID_INPUT', message: /Frame folder \S+no-images has no \.png\/\.jpg\/\.jpeg files: it holds 1 other entry \(notes\.txt\)/},
	{name: 'size 100', clip: {size: 100}, code: 'INVALID_OPTION', message: /Invalid clip descriptor: size: expected a whole number from 8 to 1024 that is a multiple of 8, got 100/},
	{name: 'steps 0', clip: {steps: 0}, code: 'INVALID_OPTION', message: /Invalid clip descriptor: steps: expected a whole number in \[1, 999\], got 0/},
	// issue 16: values the schema used to accept that crashed later
	{name: 'steps 1000', clip: {steps: 1000}, code: 'INVALID_OPTION', message: /Invalid clip descriptor: steps: expected a whole number in \[1, 999\], got 1000/},
	{name: 'size 100000', clip: {size: 100000}, code: 'INVALID_OPTION', message: /Invalid clip descriptor: size: expected a whole number from 8 to 1024 that is a multiple of 8, got 100000/},
	{name: 'a blank prompt', clip: {prompt: '  '}, code: 'INVALID_OPTION', message: /Invalid clip descriptor: prompt: "  " is blank/},
	{name: 'a size the model cannot take', clip: {size: 40}, code: 'INVALID_OPTION', message: /size is 40; it must be a whole multiple of 32 \(the model \S+ has 3 UNet levels/},
];

describe('fatezero run with bad inputs', () => {
	it('exits non-zero naming the problem, and publishes nothing', {timeout: 60_000}, async () => {
		const outcomes = await Promise.all(
			BAD.map(async ({name, clip}, i) => {
				const file = path.join(workspace, `bad-${i}.json`);
				writeFileSync(file, JSON.stringify(testClip(clip)));
				const cacheDir = path.join(workspace, `cache-bad-${i}`);
				const exit = await runCli(cli, ['run', file, '--cache-dir', cacheDir], {env: {FATEZERO_MODEL: model, FATEZERO_ENGINE_LOG: `${cacheDir}.log`}}).exit;
				return {name, cacheDir, ...exit};
			}),
		);
		for (const [i, {name, cacheDir, code, stdout, stderr}] of outcomes.entries()) {
			expect(code, `${name}: ${stderr}`).toBe(BAD[i].code === 'INVALID_OPTION' ? 2 : 1);
			expect(stderr, name).toMatch(BAD[i].message);
			expect(stderr, name).toContain(`(error code ${BAD[i].code})`);
			expect(stderr, name).not.toContain('Unexpected error');
			expect(stdout, name).not.toContain('"status"');
			expect(published(cacheDir), name).toEqual([]);
			expect(engineRuns(`${cacheDir}.log`), name).toEqual([]);
		}
		console.log(`bad inputs → ${outcomes.map((o) => `${o.name}: exit ${o.code}`).join('; ')}`);
	});

	it('bin/fatezero.js gives the same exit code and message as the bundled commands', {timeout: 60_000}, async () => {
		const file = path.join(workspace, 'bad-0.json');
		const error = await promisify(execFile)(process.execPath, [path.resolve('bin/fatezero.js'), 'run', file, '--cache-dir', path.join(workspace, 'cache-bin')], {
			env: {...process.env, FATEZERO_MODEL: model},
		}).catch((e: {code: number; stderr: string}) => e);
		expect(error).toMatchObject({code: 1, stderr: expect.stringMatching(BAD[0].message)});
	});

	const isRoot = process.getuid?.() === 0;
	it.skipIf(isRoot || process.platform === 'win32')('a cache directory without write permission fails with CACHE_WRITE_FAILED before any computation', {timeout: 60_000}, async () => {
		const cacheDir = path.join(workspace, 'read-only-cache');
		mkdirSync(cacheDir);
		chmodSync(cacheDir, 0o555);
		try {
			const exit = await runCli(cli, ['run', path.join(workspace, 'good.json'), '--cache-dir', cacheDir], {env: {FATEZERO_MODEL: model}}).exit;
			expect(exit.code).toBe(1);
			expect(exit.stderr).toMatch(/not writable[\s\S]*CACHE_WRITE_FAILED/);
			expect(readdirSync(cacheDir)).toEqual([]);
		} finally {
			chmodSync(cacheDir, 0o755);
		}
	});
	if (isRoot) console.log('running as root: chmod does not block root, so the real read-only cache test is skipped; the injected EACCES test below covers the same path');
});

// A full disk and a read-only cache cannot be produced for real on a CI machine (or as root):
// the cache's writes go through an injected CacheFs that fails them, in this process.

/** Every path the cache asks the file system to change, and a way to fail some of them. */
const recordingFs = (fail: (op: keyof CacheFs, target: string) => NodeJS.ErrnoException | null) => {
	const touched: string[] = [];
	const guard = async <T>(op: keyof CacheFs, target: string, run: () => Promise<T>): Promise<T> => {
		touched.push(target);
		const error = fail(op, target);
		if (error) throw error;
		return run();
	};
	const fs: CacheFs = {
		mkdir: (dir) => guard('mkdir', dir, () => nodeCacheFs.mkdir(dir)),
		writeFile: (file, data) => guard('writeFile', file, () => nodeCacheFs.writeFile(file, data)),
		rename: (from, to) => guard('rename', to, () => nodeCacheFs.rename(from, to)),
		rm: (target) => guard('rm', target, () => nodeCacheFs.rm(target)),
		fsync: (target) => nodeCacheFs.fsync(target),
	};
	return {fs, touched};
};

const errnoError = (code: string, syscall: string, file: string): NodeJS.ErrnoException =>
	Object.assign(new Error(`${code}: injected failure, ${syscall} '${file}'`), {code, syscall, path: file});

/** Every file, folder and link under `dir` except `skip` (links not followed), with size and mtime: what a job may not touch. */
const snapshot = (dir: string, skip: string[], prefix = ''): string[] =>
	readdirSync(path.join(dir, prefix), {withFileTypes: true})
		.map((dirent) => path.join(prefix, dirent.name))
		.filter((name) => !skip.includes(name))
		.sort()
		.flatMap((name) => {
			const stat = lstatSync(path.join(dir, name));
			const line = `${name} ${stat.isDirectory() ? 'dir' : stat.size} ${stat.mtimeMs}`;
			return stat.isDirectory() ? [line, ...snapshot(dir, skip, name)] : [line];
		});

describe('runClipJob when the cache cannot be written', () => {
	const pool = new EnginePool({cacheDir: path.join(workspace, 'engine-cache')});
	const log = path.join(workspace, 'engine.log');
	beforeAll(() => {
		vi.stubEnv('FATEZERO_ENGINE_LOG', log);
		vi.stubEnv('FATEZERO_MODEL', 'generated:tiny');
	});
	afterAll(async () => {
		vi.unstubAllEnvs();
		await pool.dispose();
	});
	const job = (cacheDir: string, fs: CacheFs) => runClipJob({descriptor: testClip({model: 'tiny-model'}), cacheDir, projectRoot: workspace, pool, fs});
	const outside = (cacheDir: string) => snapshot(workspace, [path.basename(cacheDir), 'engine.log', 'engine-cache']);

	it('a cache directory without write permission: CACHE_WRITE_FAILED before any computation, nothing written', async () => {
		const cacheDir = path.join(workspace, 'cache-eacces');
		const before = outside(cacheDir);
		const {fs, touched} = recordingFs((op, target) => (op === 'rm' ? null : errnoError('EACCES', op, target)));
		const error = await job(cacheDir, fs).catch((e: unknown) => e);
		expect(isFateZeroError(error, 'CACHE_WRITE_FAILED'), String(error)).toBe(true);
		expect((error as Error).message).toContain(`The cache directory ${cacheDir} is not writable (EACCES at `);
		expect((error as Error).message).toContain('Make it writable for this user');
		expect(existsSync(cacheDir)).toBe(false);
		expect(touched.length).toBeGreaterThan(0);
		for (const target of touched) expect(path.relative(cacheDir, target)).not.toMatch(/^\.\./);
		expect(outside(cacheDir)).toEqual(before);
		expect(engineRuns(log)).toEqual([]);
	});

	it('a disk that fills up while the clip is published: CACHE_WRITE_FAILED, no half-written entry, nothing outside the cache', async () => {
		const cacheDir = path.join(workspace, 'cache-enospc');
		const before = outside(cacheDir);
		// the third frame of the edited clip does not fit
		const {fs, touched} = recordingFs((op, target) =>
			op === 'writeFile' && target.includes(`${path.sep}clips${path.sep}.tmp-`) && target.endsWith('00002.png') ? errnoError('ENOSPC', 'write', target) : null,
		);
		const error = await job(cacheDir, fs).catch((e: unknown) => e);
		expect(isFateZeroError(error, 'CACHE_WRITE_FAILED'), String(error)).toBe(true);
		expect((error as Error).message).toMatch(/^Could not write cache entry clips\/[0-9a-f]{64} \(the partial entry was removed\) at .*00002\.png: ENOSPC.*free space/);
		// the computation ran; only its publication failed
		expect(engineRuns(log).map((r) => r.kind)).toEqual(['invert', 'edit']);
		// two frames had been written into the temporary directory, which is gone with its lock
		expect(touched.filter((t) => t.includes(`${path.sep}clips${path.sep}.tmp-`) && t.endsWith('.png'))).toHaveLength(3);
		expect(readdirSync(kindDir(cacheDir, 'clips'))).toEqual([]);
		// the source and the inversion were published before and are intact; no index points anywhere
		expect(await expectOnlyVerifiedEntries(cacheDir)).toEqual({entries: 2, temp: 0, locks: 0, trash: 0});
		expect(existsSync(path.join(cacheDir, 'index'))).toBe(false);
		for (const target of touched) expect(path.relative(cacheDir, target)).not.toMatch(/^\.\./);
		expect(outside(cacheDir)).toEqual(before);

		// with space again, the job finishes from the cached stages
		const result = await job(cacheDir, nodeCacheFs);
		expect(result.statuses).toEqual({source: 'hit', inversion: 'hit', clip: 'computed'});
		expect((await readIndex(cacheDir, result.descriptorKey))?.editKey).toBe(result.key);
		expect(await expectOnlyVerifiedEntries(cacheDir)).toEqual({entries: 3, temp: 0, locks: 0, trash: 0});
	});
});
