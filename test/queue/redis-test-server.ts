import {spawn, type ChildProcess} from 'node:child_process';
import {freePort} from '../store/s3-test-server.js';

export type RedisTestServer = {port: number; url: string; stop(): Promise<void>; start(): Promise<void>};

/**
 * Debian's redis-server (scripts/setup-system.sh installs it) on 127.0.0.1 at a free port, without
 * persistence (--save '' --appendonly no): a restart loses every job, as a crashed Redis without a
 * disk would.
 */
export const startRedis = async (): Promise<RedisTestServer> => {
	const port = await freePort();
	let child: ChildProcess | null = null;
	const start = () =>
		new Promise<void>((resolve, reject) => {
			const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], {stdio: ['ignore', 'pipe', 'pipe']});
			child = proc;
			let output = '';
			const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${output}`)), 10_000);
			proc.once('error', (error) => {
				clearTimeout(timer);
				reject(new Error(`redis-server could not be started (${error.message}); run scripts/setup-system.sh (apt-get install redis-server).`));
			});
			// with loglevel warning it prints nothing when ready: poll the port with PING
			const ping = async () => {
				const {Redis} = await import('ioredis');
				for (let i = 0; i < 200; i++) {
					const client = new Redis({host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0});
					client.on('error', () => undefined);
					try {
						await client.connect();
						await client.ping();
						client.disconnect();
						clearTimeout(timer);
						return resolve();
					} catch {
						client.disconnect();
						await new Promise((r) => setTimeout(r, 50));
					}
				}
			};
			proc.stdout!.on('data', (d) => (output += d));
			proc.stderr!.on('data', (d) => (output += d));
			void ping();
		});
	const stop = () =>
		new Promise<void>((resolve) => {
			const proc = child;
			child = null;
			if (!proc || proc.exitCode !== null) return resolve();
			proc.once('exit', () => resolve());
			proc.kill('SIGKILL');
		});
	await start();
	return {port, url: `redis://127.0.0.1:${port}`, stop, start};
};
