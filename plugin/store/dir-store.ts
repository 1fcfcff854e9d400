import {promises as fsp} from 'node:fs';
import path from 'node:path';
import {gcCache, listEntries, verifyCache} from '../frame-cache/cache-maintenance.js';
import type {CacheKind} from '../frame-cache/cache-layout.js';
import type {EntryManifest} from '../frame-cache/entry-manifest.js';
import {publishEntry} from '../frame-cache/publish-entry.js';
import {readEntry} from '../frame-cache/read-entry.js';
import type {SharedStore, StoredEntry} from './shared-store.js';

/**
 * A shared directory (NFS, a mounted volume) with today's cache layout: publishing is the local
 * cache's own temporary-sibling + rename, so two workers racing on one key keep exactly one entry,
 * and `fatezero cache … --cache-dir DIR` maintains it as any cache.
 */
export class DirStore implements SharedStore {
	readonly publicBaseUrl = null;
	readonly description: string;

	constructor(readonly dir: string) {
		this.description = dir;
	}

	// The cheap check (manifest and sizes) only: head is the one request a duplicate job costs, and
	// pullEntry re-hashes every file as it copies.
	async head(kind: CacheKind, key: string): Promise<EntryManifest | null> {
		return (await readEntry(this.dir, kind, key, {verify: false, inUse: null}))?.manifest ?? null;
	}

	async open(kind: CacheKind, key: string): Promise<StoredEntry | null> {
		const entry = await readEntry(this.dir, kind, key, {verify: false, inUse: null});
		if (!entry) return null;
		return {manifest: entry.manifest, readFile: async (name) => new Uint8Array(await fsp.readFile(path.join(entry.path, ...name.split('/'))))};
	}

	async publish(kind: CacheKind, key: string, manifest: EntryManifest, readFile: (name: string) => Promise<Uint8Array>): Promise<{manifest: EntryManifest; published: boolean}> {
		const published = await publishEntry({
			cacheDir: this.dir,
			kind,
			key,
			write: async (_dir, writer) => {
				for (const name of Object.keys(manifest.files)) await writer.writeFile(name, await readFile(name));
				const {keyInputs, frameCount, fps, width, height, timingsMs, data} = manifest;
				return {keyInputs, frameCount, fps, width, height, timingsMs, data};
			},
		});
		return {manifest: published.manifest, published: published.published};
	}

	async list() {
		return (await listEntries(this.dir)).map((e) => ({
			kind: e.kind,
			key: e.key,
			frameCount: e.frameCount,
			width: e.width,
			height: e.height,
			bytes: e.bytes,
			createdAt: e.createdAt,
			generatedModel: e.generatedModel,
			valid: e.valid,
			problem: e.problem,
		}));
	}

	async verify() {
		const report = await verifyCache(this.dir);
		return {checked: report.checked, corrupt: report.corrupt.map(({kind, key, problems}) => ({kind, key, problems}))};
	}

	async gc(options: {graceMs: number; dryRun?: boolean; keepDays?: number}) {
		// entries themselves stay unless keepDays says otherwise: a shared store is everyone's cache
		const report = await gcCache(this.dir, {keepDays: options.keepDays ?? 36500, orphanAgeMs: options.graceMs, dryRun: options.dryRun});
		return {removed: [...report.removed.map((r) => ({name: `${r.kind}/${r.key}`, bytes: r.bytes, reason: r.reason})), ...report.leftovers.map((name) => ({name, bytes: 0, reason: 'leftover of a crashed writer'}))], kept: report.kept};
	}

	async putPublicFile(): Promise<void> {
		// a directory has no URL of its own; renders on this machine read the local public dir
	}

	async close(): Promise<void> {}
}
