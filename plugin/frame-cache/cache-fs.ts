import {promises as fsp} from 'node:fs';

/**
 * The file-system writes the cache makes, behind one seam so tests can inject failures (a full
 * disk, a read-only directory) that cannot be produced for real as root or without a small disk.
 * Reads go straight to node:fs: a failing read is not a cache-write problem.
 */
export type CacheFs = {
	/** mkdir -p */
	mkdir(dir: string): Promise<void>;
	/** Writes the whole file and fsyncs it, so a published manifest never points at lost bytes. */
	writeFile(file: string, data: Uint8Array | string): Promise<void>;
	rename(from: string, to: string): Promise<void>;
	/** rm -rf */
	rm(target: string): Promise<void>;
	/** fsync a file or a directory (a directory fsync makes a rename inside it durable). */
	fsync(target: string): Promise<void>;
};

// Some platforms and file systems cannot open or fsync a directory (Windows: EISDIR/EPERM);
// durability of the rename is then up to them.
const syncUnsupported = (error: unknown): boolean => ['EISDIR', 'EINVAL', 'EPERM', 'ENOTSUP'].includes((error as NodeJS.ErrnoException).code ?? '');

export const nodeCacheFs: CacheFs = {
	mkdir: async (dir) => {
		await fsp.mkdir(dir, {recursive: true});
	},
	writeFile: async (file, data) => {
		const handle = await fsp.open(file, 'w');
		try {
			await handle.writeFile(data);
			await handle.sync();
		} finally {
			await handle.close();
		}
	},
	rename: (from, to) => fsp.rename(from, to),
	rm: (target) => fsp.rm(target, {recursive: true, force: true}),
	fsync: async (target) => {
		let handle: fsp.FileHandle;
		try {
			handle = await fsp.open(target, 'r');
		} catch (error) {
			if (syncUnsupported(error)) return;
			throw error;
		}
		try {
			await handle.sync();
		} catch (error) {
			if (!syncUnsupported(error)) throw error;
		} finally {
			await handle.close();
		}
	},
};
