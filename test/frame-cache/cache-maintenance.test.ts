import {existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {describe, expect, it} from 'vitest';
import {descriptorKey, fateZeroClip} from '../../plugin/clip/index.js';
import {entryDir, entryLockPath, kindDir} from '../../plugin/frame-cache/cache-layout.js';
import {gcCache, listEntries, verifyCache} from '../../plugin/frame-cache/cache-maintenance.js';
import {writeIndex} from '../../plugin/frame-cache/descriptor-index.js';
import {markEntryInUse} from '../../plugin/frame-cache/entry-in-use.js';
import {acquireKeyLock} from '../../plugin/frame-cache/key-lock.js';
import {publishEntry} from '../../plugin/frame-cache/publish-entry.js';
import {deadPid, tempCacheDir, writeTestFrames} from './cache-test-helpers.js';

const root = tempCacheDir('maintenance');
const DAY = 24 * 60 * 60 * 1000;
let cacheN = 0;
const freshCache = () => path.join(root, `cache-${++cacheN}`);
const publish = (cacheDir: string, kind: 'clips' | 'sources' | 'inversions', key: string, frames = 2) => publishEntry({cacheDir, kind, key, write: writeTestFrames(frames)});

describe('listEntries', () => {
	it('lists every entry with frames, size, bytes, dates and state', async () => {
		const cacheDir = freshCache();
		await publish(cacheDir, 'clips', 'c1', 3);
		await publish(cacheDir, 'sources', 's1');
		mkdirSync(entryDir(cacheDir, 'clips', 'broken'), {recursive: true});
		const lock = await acquireKeyLock(entryLockPath(cacheDir, 'sources', 's1'));
		const entries = await listEntries(cacheDir);
		await lock.release();
		expect(entries.map((e) => `${e.kind}/${e.key}`)).toEqual(['sources/s1', 'clips/broken', 'clips/c1']);
		const c1 = entries.find((e) => e.key === 'c1')!;
		expect(c1).toMatchObject({valid: true, frameCount: 3, fps: 12, width: 64, height: 64, locked: false, inUse: false});
		expect(c1.bytes).toBeGreaterThan(3 * 4096);
		expect(Date.parse(c1.lastUsedAt)).toBeGreaterThanOrEqual(Date.parse(c1.createdAt!));
		expect(entries.find((e) => e.key === 's1')?.locked).toBe(true);
		expect(entries.find((e) => e.key === 'broken')).toMatchObject({valid: false, problem: 'manifest.json is missing'});
	});
});

describe('verifyCache', () => {
	it('re-checks every checksum and reports the corrupt entries', async () => {
		const cacheDir = freshCache();
		await publish(cacheDir, 'clips', 'good');
		await publish(cacheDir, 'clips', 'bad');
		const frame = path.join(entryDir(cacheDir, 'clips', 'bad'), '00000.png');
		const bytes = readFileSync(frame);
		bytes[0] ^= 1;
		writeFileSync(frame, bytes);
		const report = await verifyCache(cacheDir);
		expect(report.checked).toBe(2);
		expect(report.corrupt.map((c) => c.key)).toEqual(['bad']);
	});
});

describe('gcCache', () => {
	it('removes entries unused for keepDays, but never a locked or in-use one', async () => {
		const cacheDir = freshCache();
		for (const key of ['old', 'locked', 'used']) await publish(cacheDir, 'clips', key);
		const lock = await acquireKeyLock(entryLockPath(cacheDir, 'clips', 'locked'));
		const marker = await markEntryInUse(cacheDir, 'clips', 'used');
		const later = Date.now() + 3 * DAY;
		try {
			const dry = await gcCache(cacheDir, {keepDays: 1, nowMs: later, dryRun: true});
			expect(dry.removed.map((r) => r.key)).toEqual(['old']);
			expect(existsSync(entryDir(cacheDir, 'clips', 'old'))).toBe(true);

			const report = await gcCache(cacheDir, {keepDays: 1, nowMs: later});
			expect(report.removed.map((r) => r.key)).toEqual(['old']);
			expect(report.removed[0].reason).toMatch(/^unused since /);
			expect(report.freedBytes).toBeGreaterThan(2 * 4096);
			expect(report.skipped).toEqual([
				{kind: 'clips', key: 'locked', reason: 'locked'},
				{kind: 'clips', key: 'used', reason: 'in use'},
			]);
			expect(existsSync(entryDir(cacheDir, 'clips', 'old'))).toBe(false);
			expect(existsSync(entryDir(cacheDir, 'clips', 'locked'))).toBe(true);
			expect(existsSync(entryDir(cacheDir, 'clips', 'used'))).toBe(true);
			expect(readdirSync(kindDir(cacheDir, 'clips')).filter((n) => n.startsWith('.trash-'))).toEqual([]);
		} finally {
			await lock.release();
			await marker.release();
		}
		// Released: now they go too.
		expect((await gcCache(cacheDir, {keepDays: 1, nowMs: later})).removed.map((r) => r.key)).toEqual(['locked', 'used']);
	});

	it('keeps entries used recently: read by Node, or named by an index a prerender rewrote', async () => {
		const cacheDir = freshCache();
		const descriptor = fateZeroClip({source: 'a.mp4', sourcePrompt: 'a', prompt: 'b'});
		for (const [kind, key] of [['clips', 'edit1'], ['inversions', 'inv1'], ['sources', 'src1'], ['clips', 'touched'], ['clips', 'stale']] as const) await publish(cacheDir, kind, key);
		const later = Date.now() + 3 * DAY;
		const indexFile = await writeIndex(cacheDir, descriptorKey(descriptor), {editKey: 'edit1', inversionKey: 'inv1', sourceKey: 'src1', descriptor});
		utimesSync(indexFile, new Date(later), new Date(later));
		const lastUsed = path.join(entryDir(cacheDir, 'clips', 'touched'), '.last-used');
		utimesSync(lastUsed, new Date(later), new Date(later));
		const report = await gcCache(cacheDir, {keepDays: 1, nowMs: later});
		expect(report.removed.map((r) => `${r.kind}/${r.key}`)).toEqual(['clips/stale']);
		expect(report.kept).toBe(4);
	});

	it('removes incomplete entries, crashed writers\' temp dirs, stale locks and index files whose clip is gone', async () => {
		const cacheDir = freshCache();
		await publish(cacheDir, 'clips', 'kept');
		mkdirSync(entryDir(cacheDir, 'clips', 'incomplete'), {recursive: true});
		const hourAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
		const orphan = path.join(kindDir(cacheDir, 'clips'), '.tmp-lost-99999-abcd1234');
		mkdirSync(orphan);
		utimesSync(orphan, hourAgo, hourAgo);
		const young = path.join(kindDir(cacheDir, 'clips'), '.tmp-writing-99998-abcd1234');
		mkdirSync(young);
		const staleLock = entryLockPath(cacheDir, 'clips', 'kept');
		writeFileSync(staleLock, JSON.stringify({pid: await deadPid(), host: os.hostname(), startedAt: hourAgo.toISOString(), token: 'x'}));
		const descriptor = fateZeroClip({source: 'a.mp4', sourcePrompt: 'a', prompt: 'b'});
		const dangling = await writeIndex(cacheDir, descriptorKey(descriptor), {editKey: 'missing', inversionKey: 'i', sourceKey: 's', descriptor});
		utimesSync(dangling, hourAgo, hourAgo);

		const report = await gcCache(cacheDir, {keepDays: 30});
		expect(report.removed.map((r) => r.key)).toEqual(['incomplete']);
		expect(report.removed[0].reason).toBe('incomplete: manifest.json is missing');
		expect(report.leftovers.sort()).toEqual([dangling, orphan, staleLock].sort());
		expect(existsSync(young)).toBe(true);
		expect(existsSync(entryDir(cacheDir, 'clips', 'kept'))).toBe(true);
		expect(existsSync(staleLock)).toBe(false);
	});
});
