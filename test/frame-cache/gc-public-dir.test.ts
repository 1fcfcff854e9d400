import {existsSync, lstatSync, mkdirSync, readdirSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {describe, expect, it, vi} from 'vitest';
import {CACHE_KINDS, entryDir} from '../../plugin/frame-cache/cache-layout.js';
import {gcCache} from '../../plugin/frame-cache/cache-maintenance.js';
import {markEntriesInUse} from '../../plugin/frame-cache/entry-in-use.js';
import {frameBytes, tempCacheDir} from './cache-test-helpers.js';
import {buildChain, corrupt, dKey, E, I, runCache, S} from './clip-chain.js';

// gc and the public dir: published copies are hard links into the store, so removing a store
// entry alone frees nothing of what was published, and leaves a public index record naming an
// entry that is gone.

const root = tempCacheDir('gc-public');
let n = 0;
const freshProject = () => {
	n++;
	return {cacheDir: path.join(root, `cache-${n}`), publicDir: path.join(root, `public-${n}`)};
};

/** What a prerender leaves: the chain in the store, its index record, and the clip published. */
const prerender = (project: {cacheDir: string; publicDir: string}) => buildChain(project.cacheDir, project.publicDir);

/** The user's own files beside the published clips, and a clip published by a store that is gone (a deployed project keeps it). */
const userFiles = (publicDir: string): string[] => {
	const other = 'd'.repeat(64);
	const files = [path.join(publicDir, 'logo.png'), path.join(publicDir, 'fatezero', 'clips', other, '00000.png'), path.join(publicDir, 'fatezero', 'index', `${'e'.repeat(64)}.json`)];
	for (const file of files) mkdirSync(path.dirname(file), {recursive: true});
	writeFileSync(files[0], frameBytes(1, 1024, 9));
	writeFileSync(files[1], frameBytes(2, 1024, 9));
	writeFileSync(files[2], JSON.stringify({editKey: other, sourceKey: 'f'.repeat(64), inversionKey: I}));
	return files;
};

/** Bytes on disk under `dirs`, each file once however many hard links it has. */
const onDisk = (dirs: string[]): number => {
	const inodes = new Map<number, number>();
	const walk = (target: string) => {
		if (!existsSync(target)) return;
		const stat = lstatSync(target);
		if (stat.isDirectory()) for (const name of readdirSync(target)) walk(path.join(target, name));
		else inodes.set(stat.ino, stat.size);
	};
	for (const dir of dirs) walk(dir);
	return [...inodes.values()].reduce((sum, size) => sum + size, 0);
};

/** The store's entries and the public dir: what gc's freedBytes speaks of (leftovers and the store index aside). */
const measured = ({cacheDir, publicDir}: {cacheDir: string; publicDir: string}) => onDisk([...CACHE_KINDS.map((kind) => path.join(cacheDir, kind)), publicDir]);

const published = (publicDir: string) => ({
	clip: path.join(publicDir, 'fatezero', 'clips', E),
	source: path.join(publicDir, 'fatezero', 'sources', S),
	record: path.join(publicDir, 'fatezero', 'index', `${dKey}.json`),
});

describe('gc and the public dir', () => {
	it('a removed clip and source leave the public dir too (index record first), and the user\'s files stay', async () => {
		const project = freshProject();
		await prerender(project);
		const mine = userFiles(project.publicDir);
		const before = measured(project);
		const report = await gcCache(project.cacheDir, {keepDays: 0, publicDir: project.publicDir});
		expect(report.removed.map((r) => r.kind).sort()).toEqual(['clips', 'inversions', 'sources']);
		const copies = published(project.publicDir);
		for (const target of Object.values(copies)) expect(existsSync(target), target).toBe(false);
		expect(report.unpublished.sort()).toEqual(Object.values(copies).sort());
		for (const file of mine) expect(existsSync(file), file).toBe(true);
		expect(report.freedBytes).toBe(before - measured(project));
		expect(report.freedBytes).toBe(report.removed.reduce((sum, r) => sum + r.freedBytes, 0));
	});

	it('freedBytes counts only bytes really freed: without the public dir, its hard links keep the published files on disk', async () => {
		const project = freshProject();
		await prerender(project);
		const before = measured(project);
		const report = await gcCache(project.cacheDir, {keepDays: 0});
		expect(report.removed.length).toBe(3);
		const freed = before - measured(project);
		expect(report.freedBytes).toBe(freed);
		// the entries were bigger than what their removal freed: the clip's frames and the source frames are still published
		expect(report.removed.reduce((sum, r) => sum + r.bytes, 0)).toBeGreaterThan(freed);
		for (const target of Object.values(published(project.publicDir))) expect(existsSync(target), target).toBe(true);
		expect(report.unpublished).toEqual([]);
	});

	it('--dry-run reports the same copies and freed bytes as the real run, and removes nothing', async () => {
		const project = freshProject();
		await prerender(project);
		const before = measured(project);
		const dry = await gcCache(project.cacheDir, {keepDays: 0, dryRun: true, publicDir: project.publicDir});
		expect(measured(project)).toBe(before);
		for (const target of Object.values(published(project.publicDir))) expect(existsSync(target), target).toBe(true);
		const real = await gcCache(project.cacheDir, {keepDays: 0, publicDir: project.publicDir});
		expect(dry.freedBytes).toBe(real.freedBytes);
		expect(dry.unpublished.sort()).toEqual(real.unpublished.sort());
	});

	it('an entry a render holds keeps its public copy; a removed source takes the public record naming it along', async () => {
		const project = freshProject();
		await prerender(project);
		const copies = published(project.publicDir);
		// the render holds the clip only: the source and the inversion are unused
		const render = await markEntriesInUse(project.cacheDir, [{kind: 'clips', key: E}]);
		try {
			const report = await gcCache(project.cacheDir, {keepDays: 0, publicDir: project.publicDir});
			expect(report.skipped).toEqual([{kind: 'clips', key: E, reason: 'in use'}]);
			expect(existsSync(copies.clip)).toBe(true);
			expect(existsSync(copies.source)).toBe(false);
			// no public record may name a source whose copy is gone
			expect(existsSync(copies.record)).toBe(false);
		} finally {
			await render.release();
		}
		// the whole chain in use: nothing of the public dir goes
		const again = freshProject();
		await prerender(again);
		const held = await markEntriesInUse(again.cacheDir, [
			{kind: 'clips', key: E},
			{kind: 'sources', key: S},
		]);
		try {
			const report = await gcCache(again.cacheDir, {keepDays: 0, publicDir: again.publicDir});
			expect(report.removed.map((r) => r.kind)).toEqual(['inversions']);
			expect(report.unpublished).toEqual([]);
			for (const target of Object.values(published(again.publicDir))) expect(existsSync(target), target).toBe(true);
		} finally {
			await held.release();
		}
	});
});

describe('fatezero cache gc and the public dir', () => {
	it('cleans the public dir --public-dir names, and reports the bytes really freed', async () => {
		const project = freshProject();
		await prerender(project);
		const before = measured(project);
		const {code, out} = await runCache(['gc', '--keep-days', '0', '--json', '--cache-dir', project.cacheDir, '--public-dir', project.publicDir]);
		expect(code).toBe(0);
		const report = JSON.parse(out) as {publicDir: string; freedBytes: number; unpublished: string[]};
		expect(report.publicDir).toBe(project.publicDir);
		expect(report.freedBytes).toBe(before - measured(project));
		for (const target of Object.values(published(project.publicDir))) expect(existsSync(target), target).toBe(false);
	});

	it('finds the public dir as verify does (FATEZERO_PUBLIC_DIR here), and names what it unpublishes', async () => {
		const project = freshProject();
		await prerender(project);
		vi.stubEnv('FATEZERO_PUBLIC_DIR', project.publicDir);
		try {
			const dry = await runCache(['gc', '--keep-days', '0', '--dry-run', '--cache-dir', project.cacheDir]);
			expect(dry.out).toContain(`Would remove published copy ${published(project.publicDir).clip}`);
			expect(existsSync(published(project.publicDir).clip)).toBe(true);
			const real = await runCache(['gc', '--keep-days', '0', '--cache-dir', project.cacheDir]);
			expect(real.out).toContain(`Removed published copy ${published(project.publicDir).record}`);
			expect(real.out).toMatch(/Removed 3 entries \(freed [\d.]+ KiB\), 3 published copies and 1 leftover/);
			for (const target of Object.values(published(project.publicDir))) expect(existsSync(target), target).toBe(false);
		} finally {
			vi.unstubAllEnvs();
		}
	});

	it('verify --remove-corrupt unpublishes only what it removes: a corrupt clip a render holds keeps its public copy', async () => {
		const project = freshProject();
		await prerender(project);
		const mine = userFiles(project.publicDir);
		corrupt(path.join(entryDir(project.cacheDir, 'clips', E), '00001.png'));
		const copies = published(project.publicDir);
		const render = await markEntriesInUse(project.cacheDir, [{kind: 'clips', key: E}]);
		try {
			const held = await runCache(['verify', '--remove-corrupt', '--cache-dir', project.cacheDir, '--public-dir', project.publicDir]);
			expect(held.code).toBe(1);
			expect(held.out).toContain(`clips/${E} kept: in use`);
			for (const target of Object.values(copies)) expect(existsSync(target), target).toBe(true);
		} finally {
			await render.release();
		}
		await runCache(['verify', '--remove-corrupt', '--cache-dir', project.cacheDir, '--public-dir', project.publicDir]);
		expect(existsSync(copies.clip)).toBe(false);
		expect(existsSync(copies.record)).toBe(false);
		// the source was not corrupt: it and its copy stay
		expect(existsSync(copies.source)).toBe(true);
		for (const file of mine) expect(existsSync(file), file).toBe(true);
	});
});
