import {GC_DEFAULTS} from '../frame-cache/cache-maintenance.js';
import {FateZeroError} from '../errors/fatezero-error.js';
import type {SharedStore} from './shared-store.js';

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/**
 * `fatezero cache ls|verify|gc --store s3://…`: the bucket's entries, a full re-hash of every
 * manifest's files, and removal of attempts no manifest references once older than the grace
 * period (GC_DEFAULTS.orphanAgeMs, as for a local cache's crashed writers). Entries themselves are
 * never removed by gc here: a shared store is every machine's cache.
 */
export const storeCacheCommand = async (sub: string, store: SharedStore, options: {json: boolean; dryRun: boolean; removeCorrupt: boolean}): Promise<number> => {
	if (options.removeCorrupt) throw new FateZeroError('INVALID_OPTION', `--remove-corrupt works on local caches only; for ${store.description} delete the entry's manifest.json with your S3 tools (its attempt is then collected by gc).`);
	try {
		if (sub === 'ls') {
			const entries = await store.list();
			if (options.json) console.log(JSON.stringify({store: store.description, entries}));
			else {
				for (const e of entries) console.log([e.kind.padEnd(10), e.key.slice(0, 16), String(e.frameCount ?? '—').padStart(4), e.width ? `${e.width}×${e.height}` : '—', mib(e.bytes), e.createdAt?.slice(0, 16).replace('T', ' ') ?? '—', e.valid ? '' : `incomplete (${e.problem})`, e.generatedModel ? 'generated model (noise)' : ''].join('  ').trimEnd());
				console.log(`${entries.length} entr${entries.length === 1 ? 'y' : 'ies'} in ${store.description}`);
			}
			return 0;
		}
		if (sub === 'verify') {
			const report = await store.verify();
			if (options.json) console.log(JSON.stringify({store: store.description, ...report}));
			else if (report.corrupt.length === 0) console.log(`✔ ${report.checked} entr${report.checked === 1 ? 'y' : 'ies'} verified in ${store.description}; every checksum matches.`);
			else {
				console.log(`✖ ${report.corrupt.length} of ${report.checked} entries are corrupt in ${store.description}:`);
				for (const entry of report.corrupt) console.log(`  ${entry.kind}/${entry.key}\n${entry.problems.map((p) => `    ${p}`).join('\n')}`);
			}
			return report.corrupt.length === 0 ? 0 : 1;
		}
		const report = await store.gc({graceMs: GC_DEFAULTS.orphanAgeMs, dryRun: options.dryRun});
		if (options.json) console.log(JSON.stringify({store: store.description, dryRun: options.dryRun, ...report}));
		else {
			for (const r of report.removed) console.log(`${options.dryRun ? 'Would remove' : 'Removed'} ${r.name} (${mib(r.bytes)}): ${r.reason}`);
			console.log(`${options.dryRun ? 'Would remove' : 'Removed'} ${report.removed.length} unreferenced attempt${report.removed.length === 1 ? '' : 's'}; ${report.kept} entr${report.kept === 1 ? 'y' : 'ies'} kept.`);
		}
		return 0;
	} finally {
		await store.close();
	}
};
