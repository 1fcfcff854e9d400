import {parseArgs} from 'node:util';
import {FateZeroError} from '../errors/fatezero-error.js';
import {gcCache, GC_DEFAULTS, listEntries, removeEntry, verifyCache, type CacheEntryInfo} from '../frame-cache/cache-maintenance.js';
import {resolveCacheDir} from '../project/resolve-cache-dir.js';
import {integerOption, withArgErrors} from './parse-cli-args.js';

export const CACHE_HELP = `fatezero cache <ls | verify | gc> [options]

Inspects and maintains the frame cache (imported sources, inversions, edited clips).

Subcommands:
  ls                       Lists every entry: kind, key, frames, size, bytes, created, last used.
  verify                   Re-hashes every file against its entry's manifest; exits 1 and lists
                           the corrupt entries if there are any.
  gc                       Removes entries not used for --keep-days days and entries without a
                           complete manifest, never one that a running job holds or uses; also
                           removes crashed writers' temporary folders and stale locks.

Options:
  --cache-dir DIR          Default FATEZERO_CACHE_DIR or ./cache.
  --json                   Print JSON instead of a table.
  --keep-days N            gc: keep entries used in the last N days. Default ${GC_DEFAULTS.keepDays}; 0 removes all unused.
  --dry-run                gc: list what would be removed, remove nothing.
  --remove-corrupt         verify: also remove the corrupt entries (they are recomputed on demand).`;

const SUBCOMMANDS = ['ls', 'verify', 'gc'] as const;

const formatBytes = (bytes: number): string => {
	const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
	let value = bytes;
	let unit = 0;
	while (value >= 1024 && unit < units.length - 1) {
		value /= 1024;
		unit++;
	}
	return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
};

// Minutes are enough to tell entries apart; seconds only widen the table.
const formatDate = (iso: string | null): string => (iso ? iso.slice(0, 16).replace('T', ' ') : '—');

const table = (rows: string[][]): string => {
	const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
	return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd()).join('\n');
};

const entryRow = (e: CacheEntryInfo): string[] => [
	e.kind,
	e.key.slice(0, 16),
	e.frameCount === null ? '—' : String(e.frameCount),
	e.width === null ? '—' : `${e.width}×${e.height}`,
	formatBytes(e.bytes),
	formatDate(e.createdAt),
	formatDate(e.lastUsedAt),
	[!e.valid ? `incomplete (${e.problem})` : '', e.locked ? 'locked' : '', e.inUse ? 'in use' : '', e.generatedModel ? 'generated model (noise)' : ''].filter(Boolean).join(', '),
];

const list = async (cacheDir: string, json: boolean): Promise<number> => {
	const entries = await listEntries(cacheDir);
	if (json) {
		console.log(JSON.stringify({cacheDir, entries}));
		return 0;
	}
	if (entries.length === 0) {
		console.log(`No cache entries in ${cacheDir}.`);
		return 0;
	}
	console.log(table([['KIND', 'KEY', 'FRAMES', 'SIZE', 'BYTES', 'CREATED (UTC)', 'LAST USED (UTC)', 'STATE'], ...entries.map(entryRow)]));
	const total = entries.reduce((sum, e) => sum + e.bytes, 0);
	console.log(`\n${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}, ${formatBytes(total)} in ${cacheDir}`);
	return 0;
};

const verify = async (cacheDir: string, json: boolean, removeCorrupt: boolean): Promise<number> => {
	const report = await verifyCache(cacheDir);
	const removed: string[] = [];
	if (removeCorrupt) {
		for (const entry of report.corrupt) {
			const outcome = await removeEntry(cacheDir, entry.kind, entry.key);
			if (outcome === 'removed') removed.push(entry.path);
		}
	}
	if (json) {
		console.log(JSON.stringify({cacheDir, checked: report.checked, corrupt: report.corrupt.map(({kind, key, path, problems}) => ({kind, key, path, problems})), removed}));
	} else if (report.corrupt.length === 0) {
		console.log(`✔ ${report.checked} entr${report.checked === 1 ? 'y' : 'ies'} verified in ${cacheDir}; every checksum matches.`);
	} else {
		console.log(`✖ ${report.corrupt.length} of ${report.checked} entries are corrupt in ${cacheDir}:`);
		for (const entry of report.corrupt) {
			console.log(`  ${entry.kind}/${entry.key}${removed.includes(entry.path) ? ' (removed)' : ''}`);
			for (const problem of entry.problems) console.log(`    ${problem}`);
		}
		if (!removeCorrupt) console.log('Remove them with "fatezero cache verify --remove-corrupt"; the next job that needs them recomputes them.');
	}
	return report.corrupt.length === 0 ? 0 : 1;
};

const collect = async (cacheDir: string, json: boolean, keepDays: number, dryRun: boolean): Promise<number> => {
	const report = await gcCache(cacheDir, {keepDays, dryRun});
	if (json) {
		console.log(JSON.stringify({cacheDir, keepDays, dryRun, ...report}));
		return 0;
	}
	const verb = dryRun ? 'Would remove' : 'Removed';
	for (const r of report.removed) console.log(`${verb} ${r.kind}/${r.key} (${formatBytes(r.bytes)}): ${r.reason}`);
	for (const s of report.skipped) console.log(`Kept ${s.kind}/${s.key}: ${s.reason}`);
	for (const leftover of report.leftovers) console.log(`${verb} leftover ${leftover}`);
	console.log(
		`${verb} ${report.removed.length} entr${report.removed.length === 1 ? 'y' : 'ies'} (${formatBytes(report.freedBytes)}) and ${report.leftovers.length} leftover${report.leftovers.length === 1 ? '' : 's'}; kept ${report.kept} used in the last ${keepDays} days${report.skipped.length ? ` and ${report.skipped.length} held by running jobs` : ''}.`,
	);
	return 0;
};

export const cacheCommand = async (args: string[]): Promise<number> => {
	const {values, positionals} = withArgErrors('cache', () =>
		parseArgs({
			args,
			strict: true,
			allowPositionals: true,
			options: {
				'cache-dir': {type: 'string'},
				json: {type: 'boolean'},
				'keep-days': {type: 'string'},
				'dry-run': {type: 'boolean'},
				'remove-corrupt': {type: 'boolean'},
			},
		}),
	);
	const [sub, ...extra] = positionals;
	if (!sub || !(SUBCOMMANDS as readonly string[]).includes(sub)) {
		throw new FateZeroError('INVALID_OPTION', `fatezero cache needs a subcommand, one of ${SUBCOMMANDS.join(', ')}; got ${sub ? `"${sub}"` : 'none'}. Run "fatezero cache --help".`);
	}
	if (extra.length > 0) {
		throw new FateZeroError('INVALID_OPTION', `fatezero cache ${sub} takes no arguments besides options; got "${extra.join(' ')}". Run "fatezero cache --help".`);
	}
	const misplaced = [
		['keep-days', values['keep-days'] !== undefined, 'gc'],
		['dry-run', values['dry-run'] !== undefined, 'gc'],
		['remove-corrupt', values['remove-corrupt'] !== undefined, 'verify'],
	].find(([, given, only]) => given && only !== sub);
	if (misplaced) {
		throw new FateZeroError('INVALID_OPTION', `--${misplaced[0]} belongs to "fatezero cache ${misplaced[2]}", not "${sub}". Run "fatezero cache --help".`);
	}
	const cacheDir = resolveCacheDir(values['cache-dir']);
	const json = values.json ?? false;
	if (sub === 'ls') return list(cacheDir, json);
	if (sub === 'verify') return verify(cacheDir, json, values['remove-corrupt'] ?? false);
	return collect(cacheDir, json, integerOption('keep-days', values['keep-days'], GC_DEFAULTS.keepDays, 0), values['dry-run'] ?? false);
};
