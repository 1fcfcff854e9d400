export {DirStore} from './dir-store.js';
export {openStore} from './open-store.js';
export {S3Store} from './s3-store.js';
export type {S3Sender, S3StoreOptions} from './s3-store.js';
export type {SharedStore, StoredEntry, StoreEntryInfo, StoreGcReport, StoreVerifyReport} from './shared-store.js';
export {describeStoreLocation, parseStoreLocation} from './store-url.js';
export type {StoreLocation} from './store-url.js';
export {pullEntry, pushEntry} from './sync-entry.js';
