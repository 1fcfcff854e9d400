import {createHash, randomBytes} from 'node:crypto';
import {DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, type S3ClientConfig} from '@aws-sdk/client-s3';
import {CACHE_KINDS, isCacheKey, MANIFEST_FILE, type CacheKind} from '../frame-cache/cache-layout.js';
import {parseManifest, type EntryManifest} from '../frame-cache/entry-manifest.js';
import {FateZeroError} from '../errors/fatezero-error.js';
import type {SharedStore, StoredEntry, StoreEntryInfo, StoreGcReport, StoreVerifyReport} from './shared-store.js';
import type {StoreLocation} from './store-url.js';

/** The part of S3Client the store uses (tests wrap it to emulate servers). */
export type S3Sender = {send(command: unknown): Promise<unknown>};

export type S3StoreOptions = Extract<StoreLocation, {type: 's3'}> & {
	/** Default: an S3Client for the endpoint, with the SDK's credential chain (AWS_ACCESS_KEY_ID …). */
	client?: S3Sender;
};

const ATTEMPTS = 'attempts';
const PUBLIC = 'public';

type StoredManifest = EntryManifest & {attempt: string};

const statusOf = (error: unknown): number | undefined => (error as {$metadata?: {httpStatusCode?: number}}).$metadata?.httpStatusCode;
const isMissing = (error: unknown) => statusOf(error) === 404 || (error as Error).name === 'NoSuchKey' || (error as Error).name === 'NotFound';
// 412: the key exists; 409: a concurrent conditional write to the same key is in flight (AWS)
const lostRace = (error: unknown) => statusOf(error) === 412 || statusOf(error) === 409 || (error as Error).name === 'PreconditionFailed';

const storeError = (error: unknown, what: string, where: string): Error =>
	error instanceof FateZeroError
		? error
		: new FateZeroError('CACHE_WRITE_FAILED', `The S3 store ${where} failed while ${what}: ${(error as Error).name}: ${(error as Error).message}. Check the endpoint, the bucket and the credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).`, {cause: error});

/**
 * An S3-compatible bucket. An entry's files go under a prefix of their own attempt,
 * `<prefix><kind>/<key>/attempts/<attempt>/<file>`, and the manifest `<prefix><kind>/<key>/manifest.json`
 * is written last and names its attempt. Readers trust manifests only, so they see a complete entry
 * or none. The manifest is put with `If-None-Match: *`: on servers that honour it the first writer
 * wins and the loser deletes its attempt; on servers that ignore it the last writer wins, and since
 * every manifest points only at its own complete attempt, readers are still never shown a mix.
 * Attempts no manifest references are removed by gc after a grace period (a reader may still be
 * reading one that was just replaced).
 */
export class S3Store implements SharedStore {
	readonly description: string;
	readonly publicBaseUrl: string;
	private readonly client: S3Sender;
	private readonly ownsClient: boolean;

	constructor(private readonly options: S3StoreOptions) {
		this.description = `s3://${options.bucket}/${options.prefix}`;
		// checksums only where S3 requires them: many S3-compatible servers reject the SDK's
		// default aws-chunked uploads with trailing checksums
		const config: S3ClientConfig = {region: options.region, forcePathStyle: options.endpoint !== null, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED'};
		if (options.endpoint) config.endpoint = options.endpoint;
		this.ownsClient = !options.client;
		this.client = options.client ?? new S3Client(config);
		const base = options.endpoint ? `${options.endpoint}/${options.bucket}` : `https://${options.bucket}.s3.${options.region}.amazonaws.com`;
		this.publicBaseUrl = `${base}/${options.prefix}${PUBLIC}`;
	}

	private entryPrefix(kind: CacheKind, key: string) {
		return `${this.options.prefix}${kind}/${key}/`;
	}

	private async get(name: string): Promise<Uint8Array | null> {
		try {
			const response = (await this.client.send(new GetObjectCommand({Bucket: this.options.bucket, Key: name}))) as {Body: {transformToByteArray(): Promise<Uint8Array>}};
			return await response.Body.transformToByteArray();
		} catch (error) {
			if (isMissing(error)) return null;
			throw storeError(error, `reading ${name}`, this.description);
		}
	}

	private async put(name: string, body: Uint8Array | string, options: {ifNoneMatch?: boolean; contentType?: string} = {}): Promise<void> {
		await this.client.send(new PutObjectCommand({Bucket: this.options.bucket, Key: name, Body: body, IfNoneMatch: options.ifNoneMatch ? '*' : undefined, ContentType: options.contentType}));
	}

	private async readManifest(kind: CacheKind, key: string): Promise<StoredManifest | {problem: string} | null> {
		const bytes = await this.get(`${this.entryPrefix(kind, key)}${MANIFEST_FILE}`);
		if (!bytes) return null;
		const text = new TextDecoder().decode(bytes);
		const parsed = parseManifest(text, kind, key);
		if ('problem' in parsed) return parsed;
		const attempt = (JSON.parse(text) as {attempt?: unknown}).attempt;
		if (typeof attempt !== 'string' || !/^[0-9a-z-]+$/.test(attempt)) return {problem: 'manifest.json names no attempt'};
		return {...parsed.manifest, attempt};
	}

	async head(kind: CacheKind, key: string): Promise<EntryManifest | null> {
		const manifest = await this.readManifest(kind, key);
		return manifest && !('problem' in manifest) ? manifest : null;
	}

	async open(kind: CacheKind, key: string): Promise<StoredEntry | null> {
		const manifest = await this.readManifest(kind, key);
		if (!manifest || 'problem' in manifest) return null;
		const files = `${this.entryPrefix(kind, key)}${ATTEMPTS}/${manifest.attempt}/`;
		return {
			manifest,
			readFile: async (name) => {
				if (!(name in manifest.files)) throw new FateZeroError('INVALID_INPUT', `${kind}/${key} has no file ${JSON.stringify(name)}; its manifest lists ${Object.keys(manifest.files).length} files.`);
				const bytes = await this.get(`${files}${name}`);
				if (!bytes) throw new FateZeroError('CACHE_CORRUPT', `${this.description}${kind}/${key}: ${name} of attempt ${manifest.attempt} is missing although its manifest lists it. Run "fatezero cache verify --store …".`);
				return bytes;
			},
		};
	}

	async publish(kind: CacheKind, key: string, manifest: EntryManifest, readFile: (name: string) => Promise<Uint8Array>): Promise<{manifest: EntryManifest; published: boolean}> {
		const attempt = `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
		const prefix = `${this.entryPrefix(kind, key)}${ATTEMPTS}/${attempt}/`;
		try {
			for (const name of Object.keys(manifest.files)) await this.put(`${prefix}${name}`, await readFile(name));
		} catch (error) {
			await this.deletePrefix(prefix).catch(() => undefined);
			throw storeError(error, `uploading ${kind}/${key}`, this.description);
		}
		const stored: StoredManifest = {...manifest, attempt};
		try {
			await this.put(`${this.entryPrefix(kind, key)}${MANIFEST_FILE}`, `${JSON.stringify(stored, null, '\t')}\n`, {ifNoneMatch: this.options.conditionalWrites, contentType: 'application/json'});
			return {manifest: stored, published: true};
		} catch (error) {
			if (!lostRace(error)) {
				await this.deletePrefix(prefix).catch(() => undefined);
				throw storeError(error, `publishing the manifest of ${kind}/${key}`, this.description);
			}
		}
		// another writer's manifest is there first: keep theirs, drop our attempt
		await this.deletePrefix(prefix).catch(() => undefined);
		const theirs = await this.head(kind, key);
		if (!theirs) throw new FateZeroError('CACHE_CORRUPT', `${this.description}${kind}/${key}: the conditional put lost to a manifest that cannot be read. Run "fatezero cache verify --store …".`);
		return {manifest: theirs, published: false};
	}

	async putPublicFile(name: string, data: Uint8Array): Promise<void> {
		const contentType = name.endsWith('.json') ? 'application/json' : name.endsWith('.png') ? 'image/png' : undefined;
		try {
			await this.put(`${this.options.prefix}${PUBLIC}/${name}`, data, {contentType});
		} catch (error) {
			throw storeError(error, `writing ${PUBLIC}/${name}`, this.description);
		}
	}

	private async listObjects(prefix: string): Promise<{name: string; bytes: number; modifiedMs: number}[]> {
		const objects: {name: string; bytes: number; modifiedMs: number}[] = [];
		let token: string | undefined;
		do {
			const page = (await this.client.send(new ListObjectsV2Command({Bucket: this.options.bucket, Prefix: prefix, ContinuationToken: token}))) as {
				Contents?: {Key?: string; Size?: number; LastModified?: Date}[];
				NextContinuationToken?: string;
				IsTruncated?: boolean;
			};
			for (const o of page.Contents ?? []) if (o.Key) objects.push({name: o.Key, bytes: o.Size ?? 0, modifiedMs: o.LastModified?.getTime() ?? 0});
			token = page.IsTruncated ? page.NextContinuationToken : undefined;
		} while (token);
		return objects;
	}

	private async deletePrefix(prefix: string): Promise<void> {
		const names = (await this.listObjects(prefix)).map((o) => o.name);
		for (let i = 0; i < names.length; i += 1000) {
			await this.client.send(new DeleteObjectsCommand({Bucket: this.options.bucket, Delete: {Objects: names.slice(i, i + 1000).map((Key) => ({Key}))}}));
		}
	}

	/** Every object of every kind, grouped by entry: its manifest (if any) and attempts. */
	private async scan() {
		const entries = new Map<string, {kind: CacheKind; key: string; attempts: Map<string, {bytes: number; newestMs: number}>}>();
		for (const kind of CACHE_KINDS) {
			for (const object of await this.listObjects(`${this.options.prefix}${kind}/`)) {
				const [key, second, attempt] = object.name.slice(`${this.options.prefix}${kind}/`.length).split('/');
				if (!isCacheKey(key)) continue;
				const id = `${kind}/${key}`;
				const entry = entries.get(id) ?? {kind, key, attempts: new Map()};
				entries.set(id, entry);
				if (second === ATTEMPTS && attempt) {
					const stats = entry.attempts.get(attempt) ?? {bytes: 0, newestMs: 0};
					stats.bytes += object.bytes;
					stats.newestMs = Math.max(stats.newestMs, object.modifiedMs);
					entry.attempts.set(attempt, stats);
				}
			}
		}
		return [...entries.values()];
	}

	async list(): Promise<StoreEntryInfo[]> {
		const infos: StoreEntryInfo[] = [];
		for (const entry of await this.scan()) {
			const manifest = await this.readManifest(entry.kind, entry.key);
			if (manifest === null) continue; // attempts without a manifest are not entries (gc's business)
			const valid = !('problem' in manifest);
			infos.push({
				kind: entry.kind,
				key: entry.key,
				frameCount: valid ? manifest.frameCount : null,
				width: valid ? manifest.width : null,
				height: valid ? manifest.height : null,
				bytes: valid ? (entry.attempts.get(manifest.attempt)?.bytes ?? 0) : 0,
				createdAt: valid ? manifest.createdAt : null,
				generatedModel: valid && manifest.data?.generatedModel === true,
				valid,
				problem: valid ? null : manifest.problem,
			});
		}
		return infos;
	}

	async verify(): Promise<StoreVerifyReport> {
		const report: StoreVerifyReport = {checked: 0, corrupt: []};
		for (const entry of await this.scan()) {
			const manifest = await this.readManifest(entry.kind, entry.key);
			if (manifest === null) continue;
			report.checked++;
			if ('problem' in manifest) {
				report.corrupt.push({kind: entry.kind, key: entry.key, problems: [manifest.problem]});
				continue;
			}
			const problems: string[] = [];
			const files = `${this.entryPrefix(entry.kind, entry.key)}${ATTEMPTS}/${manifest.attempt}/`;
			for (const [name, record] of Object.entries(manifest.files)) {
				const bytes = await this.get(`${files}${name}`);
				if (!bytes) problems.push(`${name} is missing`);
				else if (bytes.length !== record.bytes) problems.push(`${name} has ${bytes.length} bytes, the manifest says ${record.bytes}`);
				else if (createHash('sha256').update(bytes).digest('hex') !== record.sha256) problems.push(`${name}: SHA-256 differs from the manifest's`);
			}
			if (problems.length) report.corrupt.push({kind: entry.kind, key: entry.key, problems});
		}
		return report;
	}

	async gc(options: {graceMs: number; dryRun?: boolean}): Promise<StoreGcReport> {
		const report: StoreGcReport = {removed: [], kept: 0};
		const now = Date.now();
		for (const entry of await this.scan()) {
			const manifest = await this.readManifest(entry.kind, entry.key);
			const referenced = manifest && !('problem' in manifest) ? manifest.attempt : null;
			for (const [attempt, stats] of entry.attempts) {
				if (attempt === referenced) {
					report.kept++;
					continue;
				}
				if (now - stats.newestMs < options.graceMs) continue; // being written, or just replaced and maybe still read
				const name = `${entry.kind}/${entry.key}/${ATTEMPTS}/${attempt}/`;
				if (!options.dryRun) await this.deletePrefix(`${this.options.prefix}${name}`);
				report.removed.push({name, bytes: stats.bytes, reason: referenced ? 'an attempt no manifest references' : 'an attempt of an entry without a manifest'});
			}
		}
		return report;
	}

	async close(): Promise<void> {
		if (this.ownsClient) (this.client as S3Client).destroy();
	}
}
