import {promises as fsp} from 'node:fs';
import path from 'node:path';

/**
 * The bytes a removal really frees. A file's data stays on disk while any hard link to it is left
 * (a public dir's copies are hard links into the store), so a file counts only once every one of
 * its links has been counted as removed. One ledger spans one gc run: links of one file removed
 * with different entries of the run add up. Call `count` before the paths are deleted (or, for a
 * dry run, instead of deleting them).
 */
export class FreedBytes {
	readonly #files = new Map<string, {size: number; links: number; removed: number}>();
	#total = 0;

	get total(): number {
		return this.#total;
	}

	/** Counts every file under `paths` as removed; returns the bytes this frees (files whose last link it was). */
	async count(paths: readonly string[]): Promise<number> {
		let freed = 0;
		const visit = async (target: string): Promise<void> => {
			let stat: Awaited<ReturnType<typeof fsp.lstat>>;
			try {
				stat = await fsp.lstat(target);
			} catch {
				return;
			}
			if (stat.isDirectory()) {
				const names = await fsp.readdir(target).catch(() => [] as string[]);
				for (const name of names) await visit(path.join(target, name));
				return;
			}
			const id = `${stat.dev}:${stat.ino}`;
			let file = this.#files.get(id);
			if (!file) this.#files.set(id, (file = {size: stat.size, links: stat.nlink, removed: 0}));
			if (file.removed >= file.links) return;
			file.removed++;
			if (file.removed === file.links) freed += file.size;
		};
		for (const target of paths) await visit(target);
		this.#total += freed;
		return freed;
	}
}
