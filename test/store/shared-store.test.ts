import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {PutObjectCommand, S3Client} from '@aws-sdk/client-s3';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {publishEntry} from '../../plugin/frame-cache/publish-entry.js';
import {readEntry} from '../../plugin/frame-cache/read-entry.js';
import {DirStore} from '../../plugin/store/dir-store.js';
import {openStore} from '../../plugin/store/open-store.js';
import {S3Store, type S3Sender} from '../../plugin/store/s3-store.js';
import type {SharedStore} from '../../plugin/store/shared-store.js';
import {parseStoreLocation} from '../../plugin/store/store-url.js';
import {pullEntry, pushEntry} from '../../plugin/store/sync-entry.js';
import {startS3Server, type S3TestServer} from './s3-test-server.js';

const workspace = mkdtempSync(path.join(os.tmpdir(), 'fatezero-store-'));
let s3: S3TestServer;

beforeAll(async () => {
	s3 = await startS3Server();
});
afterAll(async () => {
	await s3?.close();
	rmSync(workspace, {recursive: true, force: true});
});

/** A local entry with `n` files whose bytes depend on `seed`. */
const localEntry = async (cacheDir: string, key: string, seed: number, n = 3) =>
	publishEntry({
		cacheDir,
		kind: 'clips',
		key,
		write: async (_dir, writer) => {
			for (let i = 0; i < n; i++) await writer.writeFile(`${String(i).padStart(5, '0')}.png`, new Uint8Array(2000 + i).fill(seed + i));
			return {keyInputs: {seed}, frameCount: n, width: 64, height: 64, data: {seed}};
		},
	});

/**
 * An S3 server that honours If-None-Match: * on PUT (as AWS S3 does since 2024), emulated in front
 * of s3rver, which ignores the header: a conditional put of an existing key answers 412.
 */
const conditionalClient = (client: S3Client): S3Sender & {refused: number} => {
	const written = new Set<string>();
	const fake = {
		refused: 0,
		async send(command: unknown) {
			if (command instanceof PutObjectCommand) {
				const {Key, IfNoneMatch} = command.input;
				if (IfNoneMatch === '*' && written.has(Key!)) {
					fake.refused++;
					throw Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), {name: 'PreconditionFailed', $metadata: {httpStatusCode: 412}});
				}
				written.add(Key!);
			}
			return client.send(command as never);
		},
	};
	return fake;
};

describe('store locations', () => {
	it('parses directories and s3 URLs, and names the option on a bad value', () => {
		expect(parseStoreLocation('shared', '/w')).toEqual({type: 'dir', dir: '/w/shared'});
		expect(parseStoreLocation('s3://my-bucket/a/b/?endpoint=http://127.0.0.1:9000/')).toMatchObject({type: 's3', bucket: 'my-bucket', prefix: 'a/b/', endpoint: 'http://127.0.0.1:9000', conditionalWrites: true});
		expect(parseStoreLocation('s3://my-bucket?conditional=0')).toMatchObject({prefix: '', endpoint: null, conditionalWrites: false});
		expect(() => parseStoreLocation('redis://x:1')).toThrow(/--store .*unsupported scheme/);
		expect(() => parseStoreLocation('s3://B/x')).toThrow(/not a valid bucket name/);
	});
});

describe.each([
	['dir', () => new DirStore(path.join(workspace, 'shared-dir'))],
	['s3', () => openStore(s3.storeUrl('run1'))],
] as const)('%s store', (_name, make) => {
	let store: SharedStore;
	beforeAll(() => {
		store = make();
	});
	afterAll(() => store.close());

	it('push, head, pull into another cache, verify, ls', async () => {
		const a = path.join(workspace, `${_name}-a`);
		const b = path.join(workspace, `${_name}-b`);
		await localEntry(a, 'k1', 1);
		expect(await store.head('clips', 'k1')).toBeNull();
		const pushed = await pushEntry(store, 'clips', 'k1', a);
		expect(pushed.published).toBe(true);
		expect((await store.head('clips', 'k1'))?.files).toEqual(pushed.manifest.files);
		expect((await pushEntry(store, 'clips', 'k1', a)).published).toBe(false);
		const pulled = await pullEntry(store, 'clips', 'k1', b);
		expect(pulled?.status).toBe('computed');
		expect(readFileSync(path.join(pulled!.path, '00001.png'))).toEqual(readFileSync(path.join(a, 'clips/k1/00001.png')));
		expect((await pullEntry(store, 'clips', 'k1', b))?.status).toBe('hit');
		expect(await pullEntry(store, 'clips', 'absent', b)).toBeNull();
		expect(await store.verify()).toEqual({checked: 1, corrupt: []});
		expect(await store.list()).toMatchObject([{kind: 'clips', key: 'k1', frameCount: 3, valid: true}]);
	});
});

describe('s3 publication', () => {
	it('without conditional puts (s3rver ignores If-None-Match) the last writer wins and every manifest points at its own complete attempt', async () => {
		const store = openStore(s3.storeUrl('race'));
		const dirs = [1, 2, 3].map((i) => path.join(workspace, `race-${i}`));
		await Promise.all(dirs.map((dir, i) => localEntry(dir, 'k2', 10 * (i + 1))));
		const manifests = await Promise.all(dirs.map(async (dir) => (await readEntry(dir, 'clips', 'k2'))!.manifest));
		// One after the other: s3rver writes an object's file in place, so two PUTs of the same key at
		// the same instant can interleave into a broken object there (S3 itself replaces objects
		// atomically). Without If-None-Match, each later manifest simply replaces the earlier one.
		const results = [];
		for (const [i, dir] of dirs.entries()) results.push(await store.publish('clips', 'k2', manifests[i], async (name) => new Uint8Array(readFileSync(path.join(dir, 'clips/k2', name)))));
		expect(results.every((r) => r.published)).toBe(true);
		// whichever manifest is there now, its files are exactly one writer's
		const reader = path.join(workspace, 'race-reader');
		const pulled = await pullEntry(store, 'clips', 'k2', reader);
		const seed = pulled!.manifest.data.seed as number;
		expect(seed).toBe(30); // the last writer's
		expect(readFileSync(path.join(pulled!.path, '00000.png'))[0]).toBe(seed);
		expect(await store.verify()).toEqual({checked: 1, corrupt: []});
		// two attempts are now unreferenced: kept within the grace period, removed after it
		expect((await store.gc({graceMs: 60_000})).removed).toHaveLength(0);
		const gc = await store.gc({graceMs: 0});
		expect(gc.removed.map((r) => r.reason)).toEqual(['an attempt no manifest references', 'an attempt no manifest references']);
		expect(gc.kept).toBe(1);
		expect(await store.verify()).toEqual({checked: 1, corrupt: []});
		await store.close();
	});

	it('with a server that honours If-None-Match the first manifest wins and the loser removes its attempt', async () => {
		const real = new S3Client({endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED'});
		const client = conditionalClient(real);
		const location = parseStoreLocation(s3.storeUrl('conditional'));
		const store = new S3Store({...(location as Extract<typeof location, {type: 's3'}>), client});
		const dirs = [1, 2].map((i) => path.join(workspace, `cond-${i}`));
		await Promise.all(dirs.map((dir, i) => localEntry(dir, 'k3', 100 + i)));
		const manifests = await Promise.all(dirs.map(async (dir) => (await readEntry(dir, 'clips', 'k3'))!.manifest));
		const first = await store.publish('clips', 'k3', manifests[0], async (name) => new Uint8Array(readFileSync(path.join(dirs[0], 'clips/k3', name))));
		const second = await store.publish('clips', 'k3', manifests[1], async (name) => new Uint8Array(readFileSync(path.join(dirs[1], 'clips/k3', name))));
		expect([first.published, second.published, client.refused]).toEqual([true, false, 1]);
		expect(second.manifest.data.seed).toBe(100);
		// nothing left to collect: the loser deleted its own attempt
		expect((await store.gc({graceMs: 0})).removed).toEqual([]);
		expect(await store.verify()).toEqual({checked: 1, corrupt: []});
		real.destroy();
	});

	it('a manifest whose files are gone is reported by verify, and a reader refuses the copy', async () => {
		const store = openStore(s3.storeUrl('broken'));
		const dir = path.join(workspace, 'broken');
		await localEntry(dir, 'k4', 7);
		const manifest = (await readEntry(dir, 'clips', 'k4'))!.manifest;
		// a "writer" whose manifest claims a file with other bytes
		await store.publish('clips', 'k4', {...manifest, files: {...manifest.files, '00000.png': {...manifest.files['00000.png'], sha256: '0'.repeat(64)}}}, async (name) => new Uint8Array(readFileSync(path.join(dir, 'clips/k4', name))));
		const report = await store.verify();
		expect(report.corrupt).toMatchObject([{kind: 'clips', key: 'k4', problems: ['00000.png: SHA-256 differs from the manifest\'s']}]);
		await expect(pullEntry(store, 'clips', 'k4', path.join(workspace, 'broken-reader'))).rejects.toMatchObject({code: 'CACHE_CORRUPT'});
		expect(await readEntry(path.join(workspace, 'broken-reader'), 'clips', 'k4')).toBeNull();
		await store.close();
	});
});
