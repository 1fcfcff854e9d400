import {DirStore} from './dir-store.js';
import {S3Store, type S3Sender} from './s3-store.js';
import type {SharedStore} from './shared-store.js';
import {parseStoreLocation} from './store-url.js';

/** The store a `--store` value names. */
export const openStore = (value: string, options: {client?: S3Sender} = {}): SharedStore => {
	const location = parseStoreLocation(value);
	return location.type === 'dir' ? new DirStore(location.dir) : new S3Store({...location, client: options.client});
};
