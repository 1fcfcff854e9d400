import {createHash} from 'node:crypto';
import {promises as fsp} from 'node:fs';
import path from 'node:path';
import type {CacheKind} from '../frame-cache/cache-layout.js';
import {getOrCompute, type GetOrComputeResult} from '../frame-cache/compute-once.js';
import type {EntryManifest} from '../frame-cache/entry-manifest.js';
import {readEntry} from '../frame-cache/read-entry.js';
import {FateZeroError} from '../errors/fatezero-error.js';
import type {SharedStore} from './shared-store.js';

/**
 * The read-through copy: the store's entry kind/key in the local cache (downloaded once, checked
 * against the manifest's SHA-256 while copying, published locally with the cache's own atomic
 * rename). Null when the store has no such entry.
 */
export const pullEntry = async (store: SharedStore, kind: CacheKind, key: string, cacheDir: string, options: {signal?: AbortSignal} = {}): Promise<GetOrComputeResult | null> => {
	const local = await readEntry(cacheDir, kind, key);
	if (local) return {status: 'hit', path: local.path, manifest: local.manifest};
	const remote = await store.open(kind, key);
	if (!remote) return null;
	return getOrCompute({
		cacheDir,
		kind,
		key,
		lock: {signal: options.signal},
		compute: async (_dir, writer) => {
			for (const [name, record] of Object.entries(remote.manifest.files)) {
				const bytes = await remote.readFile(name);
				const sha256 = createHash('sha256').update(bytes).digest('hex');
				if (sha256 !== record.sha256) {
					throw new FateZeroError('CACHE_CORRUPT', `${store.description} ${kind}/${key}: ${name} does not match its manifest's SHA-256. Run "fatezero cache verify --store …"; nothing was copied.`);
				}
				await writer.writeFile(name, bytes);
			}
			const {keyInputs, frameCount, fps, width, height, timingsMs, data} = remote.manifest;
			return {keyInputs, frameCount, fps, width, height, timingsMs, data};
		},
	});
};

/** Publishes the local entry kind/key to the store unless the store has it; returns the store's manifest. */
export const pushEntry = async (store: SharedStore, kind: CacheKind, key: string, cacheDir: string): Promise<{manifest: EntryManifest; published: boolean}> => {
	const existing = await store.head(kind, key);
	if (existing) return {manifest: existing, published: false};
	const local = await readEntry(cacheDir, kind, key, {touch: false});
	if (!local) throw new FateZeroError('CACHE_CORRUPT', `The local cache ${cacheDir} has no complete ${kind}/${key} to publish to ${store.description}.`);
	return store.publish(kind, key, local.manifest, async (name) => new Uint8Array(await fsp.readFile(path.join(local.path, ...name.split('/')))));
};
