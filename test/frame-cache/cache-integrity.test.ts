import {existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {describe, expect, it} from 'vitest';
import {cacheCommand} from '../../plugin/cli/cache-command.js';
import {isFateZeroError} from '../../plugin/errors/fatezero-error.js';
import {entryDir, kindDir} from '../../plugin/frame-cache/cache-layout.js';
import {gcCache} from '../../plugin/frame-cache/cache-maintenance.js';
import {getOrCompute} from '../../plugin/frame-cache/compute-once.js';
import {keysInUse, markEntriesInUse, trackEntryUse} from '../../plugin/frame-cache/entry-in-use.js';
import {publishToPublicDir} from '../../plugin/frame-cache/publish-to-public-dir.js';
import {readEntry} from '../../plugin/frame-cache/read-entry.js';
import {deadPid, frameBytes, tempCacheDir} from './cache-test-helpers.js';
import {buildChain, corrupt, descriptor, dKey, E, I, runCache, S, writeClip, writeInversion} from './clip-chain.js';

const root = tempCacheDir('integrity');
let n = 0;
const freshCache = () => path.join(root, `cache-${++n}`);

describe('integrity on read (issue 16)', () => {
	it('a clip frame corrupted in place (same size) is not a hit: it is recomputed, and the report names the file', async () => {
		const cacheDir = freshCache();
		await getOrCompute({cacheDir, kind: 'clips', key: E, compute: writeClip});
		corrupt(path.join(entryDir(cacheDir, 'clips', E), '00001.png'));
		expect(await readEntry(cacheDir, 'clips', E)).toBeNull();
		const again = await getOrCompute({cacheDir, kind: 'clips', key: E, compute: writeClip});
		expect(again.status).toBe('computed');
		expect(again.replacedCorrupt).toEqual([expect.stringMatching(new RegExp(`^clips/${E}/00001\\.png: SHA-256 `))]);
		expect(await readEntry(cacheDir, 'clips', E)).not.toBeNull();
		expect(readdirSync(kindDir(cacheDir, 'clips')).filter((name) => name.startsWith('.'))).toEqual([]);
	});

	it('a corrupted inversion is not built upon: the next read recomputes it', async () => {
		const cacheDir = freshCache();
		await buildChain(cacheDir);
		corrupt(path.join(entryDir(cacheDir, 'inversions', I), 'inversion.safetensors'));
		let recomputed = false;
		const inversion = await getOrCompute({cacheDir, kind: 'inversions', key: I, compute: async (dir, writer) => ((recomputed = true), writeInversion(dir, writer))});
		expect(recomputed).toBe(true);
		expect(inversion.status).toBe('computed');
	});

	it('a public copy that no longer matches the store is rebuilt; a corrupt store file is never published', async () => {
		const cacheDir = freshCache();
		const publicDir = path.join(cacheDir, '..', `public-${n}`);
		await buildChain(cacheDir, publicDir);
		// the clip recomputed after corruption has new files: the public copy must follow it
		corrupt(path.join(entryDir(cacheDir, 'clips', E), '00002.png'));
		const clip = await getOrCompute({cacheDir, kind: 'clips', key: E, compute: writeClip});
		const record = {descriptorKey: dKey, editKey: E, sourceKey: S, inversionKey: I, descriptor};
		await publishToPublicDir({cacheDir, publicDir, record, clipManifest: clip.manifest, sourceFrameCount: 3});
		expect(readFileSync(path.join(publicDir, 'fatezero', 'clips', E, '00002.png'))).toEqual(readFileSync(path.join(entryDir(cacheDir, 'clips', E), '00002.png')));
		// a source frame damaged in place (the public copy is a hard link to it)
		corrupt(path.join(entryDir(cacheDir, 'sources', S), 'frames', '00001.png'));
		const error = await publishToPublicDir({cacheDir, publicDir, record, clipManifest: clip.manifest, sourceFrameCount: 3}).catch((e: unknown) => e);
		expect(isFateZeroError(error, 'CACHE_CORRUPT'), String(error)).toBe(true);
		expect((error as Error).message).toContain(path.join(entryDir(cacheDir, 'sources', S), 'frames', '00001.png'));
		// an entry removed under a running job is reported as gone, not as a bug or a cache miss
		rmSync(entryDir(cacheDir, 'sources', S), {recursive: true});
		rmSync(path.join(publicDir, 'fatezero', 'sources'), {recursive: true});
		const gone = await publishToPublicDir({cacheDir, publicDir, record, clipManifest: clip.manifest, sourceFrameCount: 3}).catch((e: unknown) => e);
		expect(isFateZeroError(gone, 'CACHE_CORRUPT'), String(gone)).toBe(true);
		expect((gone as Error).message).toMatch(/is gone: it was removed while this job used it/);
		// the same for a clip file removed by hand after the clip was read
		rmSync(path.join(entryDir(cacheDir, 'clips', E), '00000.png'));
		rmSync(path.join(publicDir, 'fatezero', 'clips'), {recursive: true});
		const clipGone = await publishToPublicDir({cacheDir, publicDir, record, clipManifest: clip.manifest, sourceFrameCount: 3}).catch((e: unknown) => e);
		expect((clipGone as Error).message).toMatch(/00000\.png is gone: its entry was removed while this job used it/);
	});

	it('verify --remove-corrupt also removes what was built from the corrupt entry, and every index record pointing at them', async () => {
		const cacheDir = freshCache();
		const publicDir = path.join(cacheDir, '..', `public-${n}`);
		await buildChain(cacheDir, publicDir);
		corrupt(path.join(entryDir(cacheDir, 'inversions', I), 'inversion.safetensors'));
		const {code, out} = await runCache(['verify', '--cache-dir', cacheDir, '--remove-corrupt', '--public-dir', publicDir]);
		expect(code).toBe(1);
		expect(out).toContain(`clips/${E} (removed: built from inversions/${I})`);
		expect(existsSync(entryDir(cacheDir, 'inversions', I))).toBe(false);
		// the clip edited from it had valid checksums but would stay a permanent hit
		expect(existsSync(entryDir(cacheDir, 'clips', E))).toBe(false);
		expect(existsSync(entryDir(cacheDir, 'sources', S))).toBe(true);
		expect(existsSync(path.join(cacheDir, 'index', `${dKey}.json`))).toBe(false);
		expect(existsSync(path.join(publicDir, 'fatezero', 'index', `${dKey}.json`))).toBe(false);
		expect(existsSync(path.join(publicDir, 'fatezero', 'clips', E))).toBe(false);
		expect((await runCache(['verify', '--cache-dir', cacheDir])).code).toBe(0);
	});
});

describe('gc and in-use (issue 16)', () => {
	it('gc --keep-days 0 during a job keeps what the job uses; after it, removes it and the index records pointing at it', async () => {
		const cacheDir = freshCache();
		await trackEntryUse(async (usage) => {
			await buildChain(cacheDir);
			expect(usage.marked.sort()).toEqual([`clips/${E}`, `inversions/${I}`, `sources/${S}`]);
			const during = await gcCache(cacheDir, {keepDays: 0});
			expect(during.removed).toEqual([]);
			expect(during.skipped.map((s) => `${s.kind}:${s.reason}`).sort()).toEqual(['clips:in use', 'inversions:in use', 'sources:in use']);
			expect(existsSync(path.join(cacheDir, 'index', `${dKey}.json`))).toBe(true);
		});
		expect((await keysInUse(cacheDir, 'sources')).size).toBe(0);
		const after = await gcCache(cacheDir, {keepDays: 0});
		expect(after.removed.length).toBe(3);
		expect(existsSync(path.join(cacheDir, 'index', `${dKey}.json`))).toBe(false);
	});

	it('gc never leaves an index record pointing at a removed entry, even when the clip itself is kept', async () => {
		const cacheDir = freshCache();
		await buildChain(cacheDir);
		// a render holds the clip; the inversion and source are unused
		const render = await markEntriesInUse(cacheDir, [{kind: 'clips', key: E}]);
		try {
			const report = await gcCache(cacheDir, {keepDays: 0});
			expect(report.removed.map((r) => r.kind).sort()).toEqual(['inversions', 'sources']);
			expect(existsSync(entryDir(cacheDir, 'clips', E))).toBe(true);
			expect(report.leftovers).toContain(path.join(cacheDir, 'index', `${dKey}.json`));
			expect(existsSync(path.join(cacheDir, 'index', `${dKey}.json`))).toBe(false);
		} finally {
			await render.release();
		}
	});

	it('a temporary folder left by a killed process is removed by the next computation of the same key, not after an hour', async () => {
		const cacheDir = freshCache();
		const pid = await deadPid();
		const leftover = path.join(kindDir(cacheDir, 'clips'), `.tmp-${E}-${pid}-0badf00d`);
		const otherKey = path.join(kindDir(cacheDir, 'clips'), `.tmp-${'d'.repeat(64)}-${pid}-0badf00d`);
		mkdirSync(leftover, {recursive: true});
		mkdirSync(otherKey, {recursive: true});
		writeFileSync(path.join(leftover, 'latents.bin'), frameBytes(1, 65536));
		await getOrCompute({cacheDir, kind: 'clips', key: E, compute: writeClip});
		expect(existsSync(leftover)).toBe(false);
		// another key's leftover belongs to that key's next run (or gc)
		expect(existsSync(otherKey)).toBe(true);
	});
});

describe('the cache directory is a file (issue 16)', () => {
	it('cache ls / gc / verify name the problem instead of crashing', async () => {
		const file = path.join(root, 'not-a-folder');
		writeFileSync(file, 'x');
		for (const sub of ['ls', 'gc', 'verify']) {
			const error = await cacheCommand([sub, '--cache-dir', file]).catch((e: unknown) => e);
			expect(isFateZeroError(error, 'INVALID_OPTION'), `${sub}: ${String(error)}`).toBe(true);
			expect((error as Error).message).toContain(`The cache directory ${file} is a file, not a folder`);
		}
		const compute = await getOrCompute({cacheDir: file, kind: 'clips', key: E, compute: writeClip}).catch((e: unknown) => e);
		expect(isFateZeroError(compute, 'INVALID_OPTION'), String(compute)).toBe(true);
	});
});
