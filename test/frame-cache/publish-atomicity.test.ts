import {readdirSync} from 'node:fs';
import path from 'node:path';
import {beforeAll, describe, expect, it} from 'vitest';
import {classifyKindDirItem, entryDir, kindDir} from '../../plugin/frame-cache/cache-layout.js';
import {gcCache, listEntries, verifyCache} from '../../plugin/frame-cache/cache-maintenance.js';
import {checkEntry} from '../../plugin/frame-cache/read-entry.js';
import {bundleFixtures, runFixture, tempCacheDir} from './cache-test-helpers.js';

const root = tempCacheDir('atomicity');
const cacheDir = path.join(root, 'cache');
beforeAll(() => bundleFixtures(['slow-writer.ts'], path.join(root, 'bin')));

const KILLS = 20;
const PARALLEL = 4;

describe('atomic publication', () => {
	it('a reader never sees a partial entry, whenever the writer is killed (20 SIGKILLs at random points)', async () => {
		let reading = true;
		let checks = 0;
		const partial: string[] = [];
		// Reads the clips folder as any reader would, as fast as it can, for the whole test.
		const reader = (async () => {
			while (reading) {
				let names: string[] = [];
				try {
					names = readdirSync(kindDir(cacheDir, 'clips'));
				} catch {
					// not created yet
				}
				for (const name of names) {
					const item = classifyKindDirItem(name);
					if (item.type !== 'entry') continue;
					const checked = await checkEntry(entryDir(cacheDir, 'clips', item.key), 'clips', item.key);
					checks++;
					if ('problem' in checked) partial.push(`${name}: ${checked.problem}`);
				}
				await new Promise((resolve) => setImmediate(resolve));
			}
		})();

		const killPointsMs: number[] = [];
		const killOne = async (i: number) => {
			const run = runFixture('slow-writer.ts', [cacheDir, `w${i}`]);
			expect(await run.firstLine).toBe('ready');
			const delayMs = Math.random() * 150;
			killPointsMs.push(Math.round(delayMs));
			await new Promise((resolve) => setTimeout(resolve, delayMs));
			run.child.kill('SIGKILL');
			expect((await run.exit).signal).toBe('SIGKILL');
		};
		for (let batch = 0; batch < KILLS; batch += PARALLEL) {
			await Promise.all(Array.from({length: PARALLEL}, (_, j) => killOne(batch + j)));
		}
		reading = false;
		await reader;

		expect(partial).toEqual([]);
		const entries = await listEntries(cacheDir);
		const leftovers = readdirSync(kindDir(cacheDir, 'clips')).filter((n) => n.startsWith('.tmp-'));
		console.log(`${KILLS} kills at ${killPointsMs.sort((a, b) => a - b).join(', ')} ms: ${entries.length} entries published, ${leftovers.length} partial temp dirs left, ${checks} reader checks`);
		expect(entries.length).toBeGreaterThan(0);
		expect(entries.every((e) => e.valid)).toBe(true);
		const verified = await verifyCache(cacheDir);
		expect(verified.checked).toBe(entries.length);
		expect(verified.corrupt).toEqual([]);

		// The killed writers' temp dirs are garbage for gc (here without waiting the usual hour).
		const report = await gcCache(cacheDir, {orphanAgeMs: 0});
		expect(report.removed).toEqual([]);
		expect(readdirSync(kindDir(cacheDir, 'clips')).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
	});
});
