import type {CacheKind} from '../frame-cache/cache-layout.js';
import type {EntryManifest} from '../frame-cache/entry-manifest.js';

/** A published entry of a shared store: its manifest (trusted: written last) and its files. */
export type StoredEntry = {
	manifest: EntryManifest;
	/** A file the manifest lists, by its relative name. */
	readFile(name: string): Promise<Uint8Array>;
};

export type StoreEntryInfo = {kind: CacheKind; key: string; frameCount: number | null; width: number | null; height: number | null; bytes: number; createdAt: string | null; generatedModel: boolean; valid: boolean; problem: string | null};
export type StoreVerifyReport = {checked: number; corrupt: {kind: CacheKind; key: string; problems: string[]}[]};
export type StoreGcReport = {removed: {name: string; bytes: number; reason: string}[]; kept: number};

/**
 * Where workers and coordinators share entries (sources, inversions, clips) across machines. Every
 * backend publishes so that a reader sees a complete entry or none: files first, the manifest last,
 * and readers trust manifests only.
 */
export interface SharedStore {
	/** For messages: the directory or s3://bucket/prefix. */
	readonly description: string;
	/** The manifest of a published entry, or null (absent, or no manifest a reader may trust). One request. */
	head(kind: CacheKind, key: string): Promise<EntryManifest | null>;
	open(kind: CacheKind, key: string): Promise<StoredEntry | null>;
	/**
	 * Publishes an entry whose files `readFile` returns. When another writer published the key first
	 * (and the backend can tell), theirs is kept and returned with published: false.
	 */
	publish(kind: CacheKind, key: string, manifest: EntryManifest, readFile: (name: string) => Promise<Uint8Array>): Promise<{manifest: EntryManifest; published: boolean}>;
	list(): Promise<StoreEntryInfo[]>;
	/** Re-reads every file of every entry against its manifest's SHA-256. */
	verify(): Promise<StoreVerifyReport>;
	/** Removes what no manifest references (crashed or losing attempts) once older than graceMs. */
	gc(options: {graceMs: number; dryRun?: boolean}): Promise<StoreGcReport>;
	/** Writes a file of the browser's tree (public-layout.ts names) where renders read it by URL; null-op for stores without one. */
	putPublicFile(name: string, data: Uint8Array): Promise<void>;
	/** The frame base URL renders read that tree from, or null when the store has none. */
	readonly publicBaseUrl: string | null;
	close(): Promise<void>;
}
