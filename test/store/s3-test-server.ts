import {mkdtempSync, rmSync} from 'node:fs';
import {createServer} from 'node:net';
import os from 'node:os';
import path from 'node:path';
// @ts-expect-error the fork ships no types
import S3rver from '@20minutes/s3rver';

// s3rver's default credentials; the SDK reads them from the environment in every process.
export const S3_TEST_CREDENTIALS = {AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1'};

const CORS = `<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>HEAD</AllowedMethod><AllowedHeader>*</AllowedHeader></CORSRule></CORSConfiguration>`;

/** A free TCP port on 127.0.0.1 (bound for an instant, then released). */
export const freePort = (): Promise<number> =>
	new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const {port} = server.address() as {port: number};
			server.close(() => resolve(port));
		});
	});

export type S3TestServer = {endpoint: string; bucket: string; storeUrl(prefix: string): string; close(): Promise<void>};

/**
 * A local S3-compatible server (the @20minutes/s3rver fork of s3rver) on 127.0.0.1 with one bucket,
 * open for anonymous GETs with CORS (as a public bucket behind a CDN would be). Its limits: it
 * ignores If-None-Match on PUT (tests of that branch use a fake), keeps objects as files in a temp
 * folder, and its signature check disagrees with the current SDK's canonical requests for some
 * operations (If-None-Match and list queries), so it runs with allowMismatchedSignatures.
 */
export const startS3Server = async (bucket = 'fatezero-test'): Promise<S3TestServer> => {
	Object.assign(process.env, S3_TEST_CREDENTIALS);
	const directory = mkdtempSync(path.join(os.tmpdir(), 'fatezero-s3rver-'));
	const port = await freePort();
	const server = new S3rver({address: '127.0.0.1', port, silent: true, directory, vhostBuckets: false, allowMismatchedSignatures: true, configureBuckets: [{name: bucket, configs: [CORS]}]});
	await server.run();
	const endpoint = `http://127.0.0.1:${port}`;
	return {
		endpoint,
		bucket,
		storeUrl: (prefix) => `s3://${bucket}/${prefix}?endpoint=${encodeURIComponent(endpoint)}`,
		close: async () => {
			await server.close();
			rmSync(directory, {recursive: true, force: true});
		},
	};
};
