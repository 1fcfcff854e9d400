import {promises as fsp} from 'node:fs';
import path from 'node:path';
import {CACHE_KINDS, entryDir, indexDir, isCacheKey, MANIFEST_FILE, type CacheKind} from './cache-layout.js';
import {entryKeys, removeEntryWithCopies, type RemoveEntryResult} from './cache-maintenance.js';
import {readIndexFolder} from './index-folder.js';
import {publicIndexDir, publishedCopiesOf, removePublishedCopies} from './public-copies.js';

type EntryRef = {kind: CacheKind; key: string};

const id = (ref: EntryRef): string => `${ref.kind}/${ref.key}`;

const stringField = (value: unknown): string | null => (typeof value === 'string' && isCacheKey(value) ? value : null);

/**
 * The entries each entry was built from, from its manifest: an inversion from its source, a clip
 * from its inversion and source (content-keys.ts puts these keys into keyInputs and data). The
 * manifest is read as plain JSON, so an entry whose files are corrupt still names its parents.
 */
const parentsOf = async (cacheDir: string, kind: CacheKind, key: string): Promise<EntryRef[]> => {
	let manifest: {keyInputs?: Record<string, unknown>; data?: Record<string, unknown>};
	try {
		manifest = JSON.parse(await fsp.readFile(path.join(entryDir(cacheDir, kind, key), MANIFEST_FILE), 'utf8')) as typeof manifest;
	} catch {
		return [];
	}
	const inputs = manifest.keyInputs && typeof manifest.keyInputs === 'object' ? manifest.keyInputs : {};
	const data = manifest.data && typeof manifest.data === 'object' ? manifest.data : {};
	const parents: EntryRef[] = [];
	const source = stringField(inputs.sourceKey) ?? stringField(data.sourceKey);
	const inversion = stringField(inputs.inversionKey) ?? stringField(data.inversionKey);
	if (source && kind !== 'sources') parents.push({kind: 'sources', key: source});
	if (inversion && kind === 'clips') parents.push({kind: 'inversions', key: inversion});
	return parents;
};

/** `roots` and every entry built from them, directly or through others. */
export const entriesBuiltFrom = async (cacheDir: string, roots: readonly EntryRef[]): Promise<{ref: EntryRef; builtFrom: string | null}[]> => {
	const graph: {ref: EntryRef; parents: EntryRef[]}[] = [];
	for (const kind of CACHE_KINDS) {
		for (const key of await entryKeys(cacheDir, kind)) graph.push({ref: {kind, key}, parents: await parentsOf(cacheDir, kind, key)});
	}
	const found = new Map<string, {ref: EntryRef; builtFrom: string | null}>(roots.map((ref) => [id(ref), {ref, builtFrom: null}]));
	for (let grew = true; grew; ) {
		grew = false;
		for (const {ref, parents} of graph) {
			if (found.has(id(ref))) continue;
			const parent = parents.find((p) => found.has(id(p)));
			if (parent) {
				found.set(id(ref), {ref, builtFrom: id(parent)});
				grew = true;
			}
		}
	}
	return [...found.values()];
};

export type CorruptRemovalReport = {
	/** Entries removed: the corrupt ones and those built from them (builtFrom names the removed parent). */
	removed: {kind: CacheKind; key: string; path: string; builtFrom: string | null}[];
	/** Due for removal but held by a running job (locked or in use); run verify again when it is done. */
	skipped: {kind: CacheKind; key: string; reason: Exclude<RemoveEntryResult, 'removed' | 'absent'>}[];
	/** Index records (store and public) that pointed at a removed entry, and public copies of removed entries. */
	unpublished: string[];
};

/**
 * Removes corrupt entries together with everything built from them (an inversion of a corrupt
 * source, a clip of a corrupt inversion: their checksums are valid but their content is not), the
 * store's and the public dir's index records pointing at any of them, and the public copies of
 * removed clips and sources, so nothing corrupt stays a hit. Entries a running job holds are
 * skipped, with their dependants' index records left alone.
 */
export const removeCorruptEntries = async (
	cacheDir: string,
	corrupt: readonly EntryRef[],
	options: {publicDir?: string | null; staleMs?: number} = {},
): Promise<CorruptRemovalReport> => {
	const report: CorruptRemovalReport = {removed: [], skipped: [], unpublished: []};
	for (const {ref, builtFrom} of await entriesBuiltFrom(cacheDir, corrupt)) {
		// a removed clip or source leaves the public dir as gc's removals do (public-copies.ts)
		const removal = await removeEntryWithCopies(cacheDir, ref.kind, ref.key, {staleMs: options.staleMs, publicDir: options.publicDir});
		report.unpublished.push(...removal.unpublished);
		if (removal.outcome === 'removed' || removal.outcome === 'absent') report.removed.push({...ref, path: entryDir(cacheDir, ref.kind, ref.key), builtFrom});
		else report.skipped.push({...ref, reason: removal.outcome});
	}
	// Then every index record naming a removed entry of any kind (a record of a removed inversion
	// too: what was built from it is corrupt), and the public copies of entries found already gone.
	const gone = new Set(report.removed.map(id));
	const publicDir = options.publicDir ?? null;
	for (const folder of [indexDir(cacheDir), ...(publicDir ? [publicIndexDir(publicDir)] : [])]) {
		for (const {file, refs} of await readIndexFolder(folder)) {
			if (!refs.some((ref) => gone.has(id(ref)))) continue;
			await fsp.rm(file, {force: true});
			report.unpublished.push(file);
		}
	}
	if (publicDir) {
		for (const {kind, key} of report.removed) report.unpublished.push(...(await removePublishedCopies(await publishedCopiesOf(publicDir, kind, key))));
	}
	return report;
};
