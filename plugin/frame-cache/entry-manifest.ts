import {z} from 'zod';
import type {JsonValue} from '../clip/canonical-json.js';
import {CACHE_KINDS, type CacheKind} from './cache-layout.js';

/** Bump when the manifest's shape changes incompatibly; readers then treat old entries as absent. */
export const MANIFEST_FORMAT = 1;

export type EntryFileRecord = {bytes: number; sha256: string};

/**
 * `manifest.json` of a published entry, written last: its presence means every file it lists
 * was complete and flushed before the entry became visible. Compositions read the clip fields
 * (frameCount, fps, width, height) from it.
 */
export type EntryManifest = {
	format: typeof MANIFEST_FORMAT;
	kind: CacheKind;
	key: string;
	engineVersion: string;
	/** ISO 8601 */
	createdAt: string;
	frameCount: number | null;
	fps: number | null;
	width: number | null;
	height: number | null;
	/** The inputs the key was hashed from, for people and `fatezero cache ls`. */
	keyInputs: JsonValue;
	/** Wall-clock milliseconds of the stages that produced the entry. */
	timingsMs: {[stage: string]: number};
	/** Kind-specific fields (e.g. an inversion's step count). */
	data: {[field: string]: JsonValue};
	/** Relative POSIX path → size and SHA-256 of every file of the entry but the manifest. */
	files: {[file: string]: EntryFileRecord};
};

/** What a compute function reports about the entry it wrote; the publisher adds the rest. */
export type ManifestFields = {
	keyInputs: JsonValue;
	frameCount?: number | null;
	fps?: number | null;
	width?: number | null;
	height?: number | null;
	timingsMs?: {[stage: string]: number};
	data?: {[field: string]: JsonValue};
};

const json: z.ZodType<JsonValue> = z.lazy(() => z.union([z.null(), z.boolean(), z.number(), z.string(), z.array(json), z.record(z.string(), json)]));

// A file name in an entry: relative, forward slashes, no '..' or empty segments.
const entryFileName = z.string().refine((name) => name.length > 0 && !name.startsWith('/') && name.split('/').every((part) => part !== '' && part !== '.' && part !== '..'));

const manifestSchema = z.object({
	format: z.literal(MANIFEST_FORMAT),
	kind: z.enum(CACHE_KINDS),
	key: z.string(),
	engineVersion: z.string(),
	createdAt: z.string(),
	frameCount: z.number().int().min(0).nullable(),
	fps: z.number().positive().nullable(),
	width: z.number().int().positive().nullable(),
	height: z.number().int().positive().nullable(),
	keyInputs: json,
	timingsMs: z.record(z.string(), z.number()),
	data: z.record(z.string(), json),
	files: z.record(entryFileName, z.object({bytes: z.number().int().min(0), sha256: z.string().regex(/^[0-9a-f]{64}$/)})),
});

/**
 * Parses manifest.json text of the entry expected at <kind>/<key>. Returns the problem in words
 * instead of throwing: an unreadable manifest means "no usable entry", not a crash.
 */
export const parseManifest = (text: string, kind: CacheKind, key: string): {manifest: EntryManifest} | {problem: string} => {
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch (error) {
		return {problem: `manifest.json is not valid JSON (${(error as Error).message})`};
	}
	const result = manifestSchema.safeParse(value);
	if (!result.success) {
		const issue = result.error.issues[0];
		return {problem: `manifest.json field ${issue.path.join('.') || '(root)'} is invalid: ${issue.message}`};
	}
	const manifest = result.data as EntryManifest;
	if (manifest.kind !== kind || manifest.key !== key) {
		return {problem: `manifest.json describes ${manifest.kind}/${manifest.key}, not ${kind}/${key}`};
	}
	return {manifest};
};
