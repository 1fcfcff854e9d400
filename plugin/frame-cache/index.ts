// Node: keys, manifests, atomic publication, locks and maintenance of the frame cache.
export {
	CACHE_KINDS,
	entryDir,
	entryLockPath,
	indexPath,
	isCacheKey,
	kindDir,
	LAST_USED_FILE,
	MANIFEST_FILE,
	manifestPath,
} from './cache-layout.js';
export type {CacheKind} from './cache-layout.js';
export {nodeCacheFs} from './cache-fs.js';
export type {CacheFs} from './cache-fs.js';
export {clipContentKeys, editKey, inversionKey, sourceKey} from './content-keys.js';
export type {ClipContentKeys, EditKeyInput, InversionKeyInput, PixelOptions, SourceKeyInput} from './content-keys.js';
export {hashFile} from './hash-file.js';
export {MANIFEST_FORMAT, parseManifest} from './entry-manifest.js';
export type {EntryFileRecord, EntryManifest, ManifestFields} from './entry-manifest.js';
export {assertCacheDirUsable, ensureWritableCacheDir} from './ensure-writable-cache-dir.js';
export {publishEntry} from './publish-entry.js';
export type {EntryComputeFn, EntryWriter, PublishedEntry, PublishEntryOptions} from './publish-entry.js';
export {checkEntry, inspectEntry, readEntry, touchLastUsed, verifyEntry} from './read-entry.js';
export type {CacheEntry, EntryVerification, ReadEntryOptions} from './read-entry.js';
export {acquireKeyLock, inspectLock, KEY_LOCK_DEFAULTS, removeStaleLock, tryAcquireKeyLock, withKeyLock} from './key-lock.js';
export type {KeyLock, KeyLockOptions, LockState} from './key-lock.js';
export type {LockOwner} from './lock-owner.js';
export {currentEntryUsage, EntryUsage, keysInUse, markEntriesInUse, markEntryInUse, trackEntryUse, withEntryInUse} from './entry-in-use.js';
export type {InUseMarker, InUseOptions} from './entry-in-use.js';
export {getOrCompute} from './compute-once.js';
export type {GetOrComputeOptions, GetOrComputeResult, GetOrComputeStatus} from './compute-once.js';
export {readIndex, writeIndex} from './descriptor-index.js';
export type {DescriptorIndexRecord, DescriptorIndexTarget} from './descriptor-index.js';
export {gcCache, GC_DEFAULTS, listEntries, readIndexFolder, removeEntry, removeEntryWithCopies, verifyCache} from './cache-maintenance.js';
export {entriesBuiltFrom, removeCorruptEntries} from './remove-corrupt-entries.js';
export type {CorruptRemovalReport} from './remove-corrupt-entries.js';
export type {CacheEntryInfo, GcOptions, GcRemoval, GcReport, RemovedEntry, RemoveEntryOptions, RemoveEntryResult, VerifyCacheReport} from './cache-maintenance.js';
export {FreedBytes} from './freed-bytes.js';
