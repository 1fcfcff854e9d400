import {createHash} from 'node:crypto';
import {promises as fsp} from 'node:fs';

const CHUNK_BYTES = 1 << 20;

/**
 * SHA-256 (hex) and size of a file, read in 1 MiB chunks so large latents files do not need
 * their size in memory. With `sync`, the file is fsynced through the same handle: the publisher
 * checksums and flushes each file in one pass.
 */
export const hashFile = async (file: string, options: {sync?: boolean} = {}): Promise<{sha256: string; bytes: number}> => {
	const hash = createHash('sha256');
	// fsync needs a writable handle on some platforms (Windows).
	const handle = await fsp.open(file, options.sync ? 'r+' : 'r');
	try {
		const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
		let bytes = 0;
		for (;;) {
			const {bytesRead} = await handle.read(buffer, 0, CHUNK_BYTES, null);
			if (bytesRead === 0) break;
			hash.update(buffer.subarray(0, bytesRead));
			bytes += bytesRead;
		}
		if (options.sync) await handle.sync();
		return {sha256: hash.digest('hex'), bytes};
	} finally {
		await handle.close();
	}
};
