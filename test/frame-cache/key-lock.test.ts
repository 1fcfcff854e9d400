import {existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {beforeAll, describe, expect, it} from 'vitest';
import {isFateZeroError} from '../../plugin/errors/index.js';
import {acquireKeyLock, inspectLock, removeStaleLock, tryAcquireKeyLock, withKeyLock} from '../../plugin/frame-cache/key-lock.js';
import {classifyKindDirItem} from '../../plugin/frame-cache/cache-layout.js';
import {bundleFixtures, deadPid, runFixture, tempCacheDir} from './cache-test-helpers.js';

const dir = tempCacheDir('key-lock');
mkdirSync(path.join(dir, 'clips'), {recursive: true});
let n = 0;
const lockPath = () => path.join(dir, 'clips', `key${++n}.lock`);
const writeLock = (file: string, owner: {pid: number; host: string}, ageMs = 0) => {
	writeFileSync(file, JSON.stringify({...owner, startedAt: new Date().toISOString(), token: 'foreign'}));
	const when = new Date(Date.now() - ageMs);
	utimesSync(file, when, when);
};

beforeAll(() => bundleFixtures(['lock-churn-child.ts'], path.join(dir, 'bin')));

describe('key lock', () => {
	it('is a file created exclusively with the owner pid, host and start time, removed on release', async () => {
		const file = lockPath();
		const before = Date.now();
		const lock = await acquireKeyLock(file);
		const after = Date.now();
		const owner = JSON.parse(readFileSync(file, 'utf8'));
		expect(owner).toMatchObject({pid: process.pid, host: os.hostname()});
		// written during the call (bracketed by clock readings, not by a guess of how long it takes)
		expect(Date.parse(owner.startedAt)).toBeGreaterThanOrEqual(before);
		expect(Date.parse(owner.startedAt)).toBeLessThanOrEqual(after);
		expect((await inspectLock(file)).state).toBe('held');
		const second = await tryAcquireKeyLock(file);
		expect(second.acquired).toBe(false);
		await lock.release();
		expect(existsSync(file)).toBe(false);
		expect((await inspectLock(file)).state).toBe('free');
	});

	it('withKeyLock releases when the function throws', async () => {
		const file = lockPath();
		await expect(withKeyLock(file, async () => Promise.reject(new Error('failed inside')))).rejects.toThrow('failed inside');
		expect(existsSync(file)).toBe(false);
	});

	it('takes over a lock whose process on this host is dead', async () => {
		const file = lockPath();
		writeLock(file, {pid: await deadPid(), host: os.hostname()});
		expect(await inspectLock(file)).toMatchObject({state: 'stale', reason: expect.stringMatching(/has exited/)});
		const attempt = await tryAcquireKeyLock(file);
		expect(attempt.acquired).toBe(true);
		if (attempt.acquired) {
			expect(JSON.parse(readFileSync(file, 'utf8')).pid).toBe(process.pid);
			await attempt.lock.release();
		}
	});

	it('respects a fresh lock of another host, and takes it over once it stops being refreshed', async () => {
		const file = lockPath();
		writeLock(file, {pid: 1, host: 'render-farm-7'});
		const held = await tryAcquireKeyLock(file, {staleMs: 5_000});
		expect(held).toMatchObject({acquired: false, owner: {pid: 1, host: 'render-farm-7'}});
		const error = await acquireKeyLock(file, {staleMs: 5_000, pollMs: 10, waitTimeoutMs: 100}).catch((e: unknown) => e);
		expect(isFateZeroError(error, 'CACHE_LOCKED')).toBe(true);
		expect((error as Error).message).toMatch(new RegExp(`cache lock ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, held by process 1 on render-farm-7 since .*fatezero cache gc`));
		writeLock(file, {pid: 1, host: 'render-farm-7'}, 10_000);
		const taken = await tryAcquireKeyLock(file, {staleMs: 5_000});
		expect(taken.acquired).toBe(true);
		if (taken.acquired) await taken.lock.release();
	});

	it('treats an empty lock file as held while young (its creator is writing) and stale when old', async () => {
		const file = lockPath();
		writeFileSync(file, '');
		expect((await inspectLock(file, {staleMs: 5_000})).state).toBe('held');
		const old = new Date(Date.now() - 10_000);
		utimesSync(file, old, old);
		expect(await removeStaleLock(file, {staleMs: 5_000})).toBe(true);
		expect(existsSync(file)).toBe(false);
	});

	it('the holder refreshes the lock (heartbeat), so a live holder never looks stale', async () => {
		const file = lockPath();
		const lock = await acquireKeyLock(file, {heartbeatMs: 20});
		const old = new Date(Date.now() - 60_000);
		utimesSync(file, old, old);
		const agedAt = Date.now();
		// polls for the refresh instead of sleeping a fixed time that a loaded machine can outlast;
		// a missing heartbeat fails by the test's timeout
		while (statSync(file).mtimeMs < agedAt - 1_000) await new Promise((resolve) => setTimeout(resolve, 10));
		// refreshed after it was aged (1 s: coarse file-system timestamps), and the lock was not lost
		expect(statSync(file).mtimeMs).toBeGreaterThanOrEqual(agedAt - 1_000);
		expect(lock.lost).toBe(false);
		await lock.release();
	});

	it('exactly one of many simultaneous takers of a stale lock wins, and no stray files remain (20 rounds)', async () => {
		const dead = await deadPid();
		for (let round = 0; round < 20; round++) {
			const file = lockPath();
			writeLock(file, {pid: dead, host: os.hostname()});
			const attempts = await Promise.all(Array.from({length: 12}, () => tryAcquireKeyLock(file)));
			const winners = attempts.filter((a) => a.acquired);
			expect(winners).toHaveLength(1);
			for (const w of winners) if (w.acquired) await w.lock.release();
			expect(readdirSync(path.dirname(file)).filter((name) => name.includes(path.basename(file, '.lock')))).toEqual([]);
		}
	});

	it('stops waiting when the caller aborts', async () => {
		const file = lockPath();
		writeLock(file, {pid: 1, host: 'elsewhere'});
		const controller = new AbortController();
		setTimeout(() => controller.abort(), 50);
		const error = await acquireKeyLock(file, {pollMs: 10, signal: controller.signal}).catch((e: unknown) => e);
		expect(isFateZeroError(error, 'ABORTED')).toBe(true);
	});
	it('never exists without its owner: a process killed at any point leaves a lock that is stale at once', {timeout: 120_000}, async () => {
		// With O_EXCL + a later write, a SIGKILL between the two left an empty lock that named no
		// process, so only its age (staleMs, 30 s) freed the key.
		const lockDir = path.join(dir, 'churn', 'clips');
		mkdirSync(lockDir, {recursive: true});
		const file = path.join(lockDir, 'churnkey.lock');
		let leftLocks = 0;
		for (let kill = 0; kill < 40; kill++) {
			const child = runFixture('lock-churn-child.ts', [file]);
			expect(await child.firstLine).toBe('churning');
			await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 30));
			child.child.kill('SIGKILL');
			expect((await child.exit).signal).toBe('SIGKILL');
			if (existsSync(file)) {
				leftLocks++;
				const state = await inspectLock(file);
				expect(state, readFileSync(file, 'utf8') || '(empty lock file)').toMatchObject({state: 'stale', owner: {pid: child.child.pid}});
				// taken over at once, not after staleMs
				const next = await tryAcquireKeyLock(file);
				expect(next.acquired).toBe(true);
				if (next.acquired) await next.lock.release();
			}
			// what a kill may leave beside it is a temporary of the key, cleaned as entry temporaries are
			for (const name of readdirSync(lockDir)) expect(['temp', 'takeover-guard'], name).toContain(classifyKindDirItem(name).type);
		}
		console.log(`${leftLocks} of 40 kills left a lock file behind; every one named its dead owner`);
	});
});
