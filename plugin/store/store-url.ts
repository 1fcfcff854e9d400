import path from 'node:path';
import {FateZeroError} from '../errors/fatezero-error.js';

export type StoreLocation =
	| {type: 'dir'; dir: string}
	| {type: 's3'; bucket: string; prefix: string; endpoint: string | null; region: string; conditionalWrites: boolean};

const ADVICE = 'Pass --store DIR (a directory every worker mounts) or --store s3://BUCKET/PREFIX?endpoint=URL (an S3-compatible bucket; credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).';

/**
 * `--store DIR | s3://BUCKET/PREFIX?endpoint=URL&region=R&conditional=0`. A prefix always ends in
 * '/' (or is empty) so object names join without guessing. `conditional=0` turns off the
 * If-None-Match put for servers that reject the header instead of ignoring it.
 */
export const parseStoreLocation = (value: string, cwd = process.cwd()): StoreLocation => {
	if (value.trim() === '') throw new FateZeroError('INVALID_OPTION', `--store is empty. ${ADVICE}`);
	if (!value.startsWith('s3://')) {
		if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) throw new FateZeroError('INVALID_OPTION', `--store ${JSON.stringify(value)} has an unsupported scheme. ${ADVICE}`);
		return {type: 'dir', dir: path.resolve(cwd, value)};
	}
	let url: URL;
	try {
		url = new URL(value);
	} catch {
		throw new FateZeroError('INVALID_OPTION', `--store ${JSON.stringify(value)} is not a valid URL. ${ADVICE}`);
	}
	const bucket = url.hostname;
	if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new FateZeroError('INVALID_OPTION', `--store ${JSON.stringify(value)}: "${bucket}" is not a valid bucket name (3–63 lowercase letters, digits, '.' and '-'). ${ADVICE}`);
	const trimmed = decodeURIComponent(url.pathname).replace(/^\/+|\/+$/g, '');
	const endpoint = url.searchParams.get('endpoint');
	if (endpoint !== null && !/^https?:\/\//.test(endpoint)) throw new FateZeroError('INVALID_OPTION', `--store endpoint ${JSON.stringify(endpoint)} must be an http(s) URL, e.g. ?endpoint=http://127.0.0.1:9000. ${ADVICE}`);
	return {
		type: 's3',
		bucket,
		prefix: trimmed ? `${trimmed}/` : '',
		endpoint: endpoint?.replace(/\/+$/, '') ?? null,
		region: url.searchParams.get('region') ?? process.env.AWS_REGION ?? 'us-east-1',
		conditionalWrites: url.searchParams.get('conditional') !== '0',
	};
};

/** The location as a person reads it (no credentials are ever part of it). */
export const describeStoreLocation = (location: StoreLocation): string =>
	location.type === 'dir' ? location.dir : `s3://${location.bucket}/${location.prefix}${location.endpoint ? ` at ${location.endpoint}` : ''}`;
