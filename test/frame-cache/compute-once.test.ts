import {chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {beforeAll, describe, expect, it} from 'vitest';
import {isFateZeroError} from '../../plugin/errors/index.js';
import {entryLockPath, kindDir} from '../../plugin/frame-cache/cache-layout.js';
import {nodeCacheFs, type CacheFs} from '../../plugin/frame-cache/cache-fs.js';
import {getOrCompute} from '../../plugin/frame-cache/compute-once.js';
import type {ManifestFields} from '../../plugin/frame-cache/entry-manifest.js';
import {bundleFixtures, deadPid, runFixture, tempCacheDir, writeTestFrames} from './cache-test-helpers.js';

const cacheDir = tempCacheDir('compute-once');
beforeAll(() => bundleFixtures(['compute-once-child.ts', 'hold-lock-child.ts'], path.join(cacheDir, 'bin')));

const counted = (counter: {calls: number}, delayMs = 50) => async (dir: string, writer: Parameters<ReturnType<typeof writeTestFrames>>[1]): Promise<ManifestFields> => {
	counter.calls++;
	await new Promise((resolve) => setTimeout(resolve, delayMs));
	return writeTestFrames(2)(dir, writer);
};

describe('getOrCompute in one process', () => {
	it('computes once for simultaneous callers, then hits', async () => {
		const counter = {calls: 0};
		const results = await Promise.all(Array.from({length: 5}, () => getOrCompute({cacheDir, kind: 'clips', key: 'same', compute: counted(counter)})));
		expect(counter.calls).toBe(1);
		expect(results.map((r) => r.status).sort()).toEqual(['computed', 'joined', 'joined', 'joined', 'joined']);
		expect(new Set(results.map((r) => r.manifest.createdAt)).size).toBe(1);
		const again = await getOrCompute({cacheDir, kind: 'clips', key: 'same', compute: counted(counter)});
		expect(again.status).toBe('hit');
		expect(counter.calls).toBe(1);
		expect(existsSync(entryLockPath(cacheDir, 'clips', 'same'))).toBe(false);
	});

	it('gives every joined caller the error of a failed computation, and the next call retries', async () => {
		const failing = Promise.all([0, 1].map(() => getOrCompute({cacheDir, kind: 'clips', key: 'fails', compute: async () => Promise.reject(new Error('model crashed'))})));
		await expect(failing).rejects.toThrow('model crashed');
		expect(existsSync(entryLockPath(cacheDir, 'clips', 'fails'))).toBe(false);
		expect((await getOrCompute({cacheDir, kind: 'clips', key: 'fails', compute: writeTestFrames(1)})).status).toBe('computed');
	});

	it('takes over at once a lock left by a dead process', async () => {
		const lock = entryLockPath(cacheDir, 'clips', 'orphaned');
		mkdirSync(path.dirname(lock), {recursive: true});
		writeFileSync(lock, JSON.stringify({pid: await deadPid(), host: os.hostname(), startedAt: new Date().toISOString(), token: 'dead'}));
		// "at once": the first attempt takes the lock over, it never waits (no poll, whatever the machine's speed)
		let waits = 0;
		const result = await getOrCompute({cacheDir, kind: 'clips', key: 'orphaned', compute: writeTestFrames(1), lock: {onWait: () => waits++}});
		expect(result.status).toBe('computed');
		expect(waits).toBe(0);
		expect(existsSync(lock)).toBe(false);
	});

	it('a full disk fails with CACHE_WRITE_FAILED and leaves neither a lock nor a partial entry', async () => {
		const fullDisk: CacheFs = {
			...nodeCacheFs,
			writeFile: async (file, data) => {
				if (file.endsWith('00001.png')) throw Object.assign(new Error('ENOSPC: no space left on device, write'), {code: 'ENOSPC', path: file});
				await nodeCacheFs.writeFile(file, data);
			},
		};
		const error = await getOrCompute({cacheDir, kind: 'clips', key: 'full', compute: writeTestFrames(3), fs: fullDisk}).catch((e: unknown) => e);
		expect(isFateZeroError(error, 'CACHE_WRITE_FAILED')).toBe(true);
		expect((error as Error).message).toMatch(/00001\.png.*free space/);
		expect(readdirSync(kindDir(cacheDir, 'clips')).filter((n) => n.includes('full'))).toEqual([]);
	});
});

describe('getOrCompute on an unwritable cache', () => {
	it('fails before computing when the cache directory cannot be created', async () => {
		const blocker = path.join(cacheDir, 'a-file');
		writeFileSync(blocker, 'not a folder');
		let computed = false;
		const error = await getOrCompute({
			cacheDir: path.join(blocker, 'cache'),
			kind: 'clips',
			key: 'k',
			compute: async (dir, writer) => {
				computed = true;
				return writeTestFrames(1)(dir, writer);
			},
		}).catch((e: unknown) => e);
		expect(computed).toBe(false);
		expect(isFateZeroError(error, 'CACHE_WRITE_FAILED')).toBe(true);
		expect((error as Error).message).toContain(`The cache directory ${path.join(blocker, 'cache')} is not writable`);
		expect((error as Error).message).toContain('--cache-dir or FATEZERO_CACHE_DIR');
	});

	it('fails before computing when writes are refused (EACCES, injected: tests may run as root)', async () => {
		const readOnly: CacheFs = {
			...nodeCacheFs,
			writeFile: async (file) => {
				throw Object.assign(new Error(`EACCES: permission denied, open '${file}'`), {code: 'EACCES', path: file});
			},
		};
		let computed = false;
		const error = await getOrCompute({cacheDir, kind: 'clips', key: 'denied', fs: readOnly, compute: async () => ((computed = true), {keyInputs: null})}).catch((e: unknown) => e);
		expect(computed).toBe(false);
		expect(isFateZeroError(error, 'CACHE_WRITE_FAILED')).toBe(true);
		expect((error as Error).message).toMatch(/not writable \(EACCES at .*\.write-probe-.*chown\/chmod/);
	});

	const isRoot = process.getuid?.() === 0;
	it.skipIf(isRoot || process.platform === 'win32')('fails before computing on a chmod 555 directory (skipped as root, where chmod does not block writes)', async () => {
		const locked = path.join(cacheDir, 'read-only');
		mkdirSync(locked);
		chmodSync(locked, 0o555);
		try {
			const error = await getOrCompute({cacheDir: locked, kind: 'clips', key: 'k', compute: writeTestFrames(1)}).catch((e: unknown) => e);
			expect(isFateZeroError(error, 'CACHE_WRITE_FAILED')).toBe(true);
		} finally {
			chmodSync(locked, 0o755);
		}
	});
});

describe('getOrCompute across processes', () => {
	const raceFourProcesses = async (key: string) => {
		const counter = path.join(cacheDir, `${key}-counter.txt`);
		writeFileSync(counter, '');
		const go = path.join(cacheDir, `${key}-go`);
		const runs = Array.from({length: 4}, () => runFixture('compute-once-child.ts', [cacheDir, key, counter, go]));
		expect(await Promise.all(runs.map((r) => r.firstLine))).toEqual(['ready', 'ready', 'ready', 'ready']);
		writeFileSync(go, '');
		const exits = await Promise.all(runs.map((r) => r.exit));
		expect(exits.map((e) => e.code)).toEqual([0, 0, 0, 0]);
		const results = runs.map((r) => JSON.parse(r.lines.at(-1)!) as {pid: number; status: string; manifest: unknown});
		expect(readFileSync(counter, 'utf8').trim().split('\n')).toHaveLength(1);
		const statuses = results.map((r) => r.status);
		console.log(`4 processes, key ${key}: ${statuses.join(', ')}`);
		expect(statuses.filter((s) => s === 'computed')).toHaveLength(1);
		expect(statuses.filter((s) => s === 'joined' || s === 'hit')).toHaveLength(3);
		for (const r of results) expect(r.manifest).toEqual(results[0].manifest);
		expect(existsSync(entryLockPath(cacheDir, 'clips', key))).toBe(false);
	};

	it('four processes asking for one key at once: one computes, all get the same entry', () => raceFourProcesses('shared'));

	it('four processes finding the lock of a dead process at once: one takes over and computes', async () => {
		const lock = entryLockPath(cacheDir, 'clips', 'inherited');
		mkdirSync(path.dirname(lock), {recursive: true});
		writeFileSync(lock, JSON.stringify({pid: await deadPid(), host: os.hostname(), startedAt: new Date().toISOString(), token: 'dead'}));
		await raceFourProcesses('inherited');
	});

	it('waits for a live holder and takes over when it dies without publishing', async () => {
		const lock = entryLockPath(cacheDir, 'clips', 'abandoned');
		const holder = runFixture('hold-lock-child.ts', [lock]);
		expect(await holder.firstLine).toBe('locked');
		let waitedFor: number | undefined;
		const result = getOrCompute({
			cacheDir,
			kind: 'clips',
			key: 'abandoned',
			compute: writeTestFrames(1),
			lock: {pollMs: 20, onWait: (owner) => (waitedFor = owner?.pid)},
		});
		// waits until it is waiting (not a fixed sleep, which a loaded machine can outlast)
		while (waitedFor === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
		expect(waitedFor).toBe(holder.child.pid);
		holder.child.kill('SIGKILL');
		expect((await holder.exit).signal).toBe('SIGKILL');
		expect((await result).status).toBe('computed');
	});
});
