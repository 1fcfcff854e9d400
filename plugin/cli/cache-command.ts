import path from 'node:path';
import {parseArgs} from 'node:util';
import {FateZeroError} from '../errors/fatezero-error.js';
import {gcCache, GC_DEFAULTS, listEntries, verifyCache, type CacheEntryInfo} from '../frame-cache/cache-maintenance.js';
import {assertCacheDirUsable} from '../frame-cache/ensure-writable-cache-dir.js';
import {openStore} from '../store/open-store.js';
import {storeCacheCommand} from '../store/store-cache-command.js';
import {parseStoreLocation} from '../store/store-url.js';
import {removeCorruptEntries} from '../frame-cache/remove-corrupt-entries.js';
import {resolveProjectSettings} from '../project/project-settings.js';
import {integerOption, withArgErrors} from './parse-cli-args.js';

export const CACHE_HELP = `fatezero cache <ls | verify | gc> [options]

Inspects and maintains the frame cache (imported sources, inversions, edited clips).

Subcommands:
  ls                       Lists every entry: kind, key, frames, size, bytes, created, last used.
  verify                   Re-hashes every file against its entry's manifest; exits 1 and lists
                           the corrupt entries if there are any.
  gc                       Removes entries not used for --keep-days days and entries without a
                           complete manifest, never one that a running job holds or uses, with the
                           public copies of removed clips and sources and the public index records
                           naming them; also removes crashed writers' temporary folders and stale
                           locks. The bytes it reports are those really freed (a file still
                           hard-linked elsewhere frees nothing).

Options:
  --cache-dir DIR          Default FATEZERO_CACHE_DIR or ./cache.
  --store DIR|s3://…       A shared store of distributed workers instead (a directory is a cache dir;
                           on s3:// gc removes attempts no manifest references, never entries).
  --json                   Print JSON instead of a table.
  --keep-days N            gc: keep entries used in the last N days. Default ${GC_DEFAULTS.keepDays}; 0 removes all unused.
  --dry-run                gc: list what would be removed, remove nothing.
  --remove-corrupt         verify: also remove the corrupt entries, every entry built from them
                           (inversions of a corrupt source, clips of a corrupt inversion), and the
                           index records and public copies pointing at them; all are recomputed on
                           demand.
  --public-dir DIR         gc, verify --remove-corrupt: the Remotion public dir whose fatezero/ folder is
                           cleaned too (only copies of the entries removed). Default FATEZERO_PUBLIC_DIR,
                           fatezero.config.json, remotion.config.ts, ./public.`;

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

/** The public dir clips were published into: the flag, FateZero's settings, remotion.config.ts, else ./public. */
const resolvePublicDir = async (flag: string | undefined, cacheDirFlag: string | undefined): Promise<string> => {
	if (flag) return path.resolve(flag);
	const settings = resolveProjectSettings({flags: cacheDirFlag ? {cacheDir: cacheDirFlag} : {}});
	if (settings.publicDir.value !== null) return settings.publicDir.value;
	try {
		const {loadRemotionProject} = await import('../node/remotion-project.js');
		return (await loadRemotionProject(settings)).publicDir.value;
	} catch {
		return path.join(settings.projectRoot, 'public');
	}
};

const verify = async (cacheDir: string, json: boolean, removeCorrupt: boolean, publicDir: () => Promise<string>): Promise<number> => {
	const report = await verifyCache(cacheDir);
	const removal = removeCorrupt && report.corrupt.length > 0 ? await removeCorruptEntries(cacheDir, report.corrupt, {publicDir: await publicDir()}) : null;
	const removedPaths = new Set(removal?.removed.map((r) => r.path));
	if (json) {
		console.log(
			JSON.stringify({
				cacheDir,
				checked: report.checked,
				corrupt: report.corrupt.map(({kind, key, path: dir, problems}) => ({kind, key, path: dir, problems})),
				removed: removal?.removed.map((r) => r.path) ?? [],
				dependants: removal?.removed.filter((r) => r.builtFrom !== null) ?? [],
				skipped: removal?.skipped ?? [],
				unpublished: removal?.unpublished ?? [],
			}),
		);
	} else if (report.corrupt.length === 0) {
		console.log(`✔ ${report.checked} entr${report.checked === 1 ? 'y' : 'ies'} verified in ${cacheDir}; every checksum matches.`);
	} else {
		console.log(`✖ ${report.corrupt.length} of ${report.checked} entries are corrupt in ${cacheDir}:`);
		for (const entry of report.corrupt) {
			console.log(`  ${entry.kind}/${entry.key}${removedPaths.has(entry.path) ? ' (removed)' : ''}`);
			for (const problem of entry.problems) console.log(`    ${problem}`);
		}
		if (removal) {
			for (const r of removal.removed) if (r.builtFrom) console.log(`  ${r.kind}/${r.key} (removed: built from ${r.builtFrom})`);
			for (const s of removal.skipped) console.log(`  ${s.kind}/${s.key} kept: ${s.reason} by a running job; run "fatezero cache verify --remove-corrupt" again when it is done.`);
			for (const file of removal.unpublished) console.log(`  removed ${file} (pointed at a removed entry)`);
		} else {
			console.log('Remove them with "fatezero cache verify --remove-corrupt" (with what was built from them); the next job that needs them recomputes them.');
		}
	}
	return report.corrupt.length === 0 ? 0 : 1;
};

const collect = async (cacheDir: string, json: boolean, keepDays: number, dryRun: boolean, publicDir: () => Promise<string>): Promise<number> => {
	// the public dir is looked up (remotion.config.ts loads in about a second) only when a clip or source goes
	let resolved: string | null = null;
	const report = await gcCache(cacheDir, {keepDays, dryRun, publicDir: async () => (resolved = await publicDir())});
	if (json) {
		console.log(JSON.stringify({cacheDir, publicDir: resolved, keepDays, dryRun, ...report}));
		return 0;
	}
	const verb = dryRun ? 'Would remove' : 'Removed';
	const freed = dryRun ? 'would free' : 'freed';
	for (const r of report.removed) console.log(`${verb} ${r.kind}/${r.key} (${formatBytes(r.bytes)}, ${freed} ${formatBytes(r.freedBytes)}): ${r.reason}`);
	for (const s of report.skipped) console.log(`Kept ${s.kind}/${s.key}: ${s.reason}`);
	for (const file of report.unpublished) console.log(`${verb} published copy ${file}`);
	for (const leftover of report.leftovers) console.log(`${verb} leftover ${leftover}`);
	console.log(
		`${verb} ${report.removed.length} entr${report.removed.length === 1 ? 'y' : 'ies'} (${freed} ${formatBytes(report.freedBytes)}), ${report.unpublished.length} published cop${report.unpublished.length === 1 ? 'y' : 'ies'} and ${report.leftovers.length} leftover${report.leftovers.length === 1 ? '' : 's'}; kept ${report.kept} used in the last ${keepDays} days${report.skipped.length ? ` and ${report.skipped.length} held by running jobs` : ''}.`,
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
				store: {type: 'string'},
				json: {type: 'boolean'},
				'keep-days': {type: 'string'},
				'dry-run': {type: 'boolean'},
				'remove-corrupt': {type: 'boolean'},
				'public-dir': {type: 'string'},
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
		['public-dir', values['public-dir'] !== undefined, 'verify', 'gc'],
	].find(([, given, ...only]) => given && !only.includes(sub));
	if (misplaced) {
		throw new FateZeroError('INVALID_OPTION', `--${misplaced[0]} belongs to "fatezero cache ${misplaced.slice(2).join('" or "fatezero cache ')}", not "${sub}". Run "fatezero cache --help".`);
	}
	if (values.store !== undefined) {
		const location = parseStoreLocation(values.store);
		if (location.type === 's3') return storeCacheCommand(sub, openStore(values.store), {json: values.json ?? false, dryRun: values['dry-run'] ?? false, removeCorrupt: values['remove-corrupt'] ?? false});
		values['cache-dir'] = location.dir;
	}
	const cacheDir = assertCacheDirUsable(resolveProjectSettings({flags: values['cache-dir'] ? {cacheDir: values['cache-dir']} : {}}).cacheDir.value);
	const json = values.json ?? false;
	if (sub === 'ls') return list(cacheDir, json);
	const publicDir = () => resolvePublicDir(values['public-dir'], values['cache-dir']);
	if (sub === 'verify') return verify(cacheDir, json, values['remove-corrupt'] ?? false, publicDir);
	return collect(cacheDir, json, integerOption('keep-days', values['keep-days'], GC_DEFAULTS.keepDays, 0), values['dry-run'] ?? false, publicDir);
};
