/**
 * `Promise.all(items.map(fn))` with at most `limit` calls in flight, results in input order. Frame
 * folders can hold thousands of files; unbounded parallel decodes would hold them all in memory.
 */
export const mapWithConcurrency = async <T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> => {
	const results = new Array<R>(items.length);
	let next = 0;
	const worker = async (): Promise<void> => {
		while (next < items.length) {
			const index = next++;
			try {
				results[index] = await fn(items[index], index);
			} catch (error) {
				// Stop handing out work; the first error is what Promise.all reports.
				next = items.length;
				throw error;
			}
		}
	};
	await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker));
	return results;
};
