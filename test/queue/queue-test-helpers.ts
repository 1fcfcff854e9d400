import {spawn, type ChildProcess} from 'node:child_process';
import {bundleCli, childEnv} from '../jobs/job-test-helpers.js';
import {S3_TEST_CREDENTIALS} from '../store/s3-test-server.js';

/** The run/worker/cache CLI (fixtures/fatezero-cli.ts) bundled with esbuild into outDir, packages external (see bundleCli in the job tests). */
export const bundleQueueCli = (outDir: string): Promise<string> => bundleCli(outDir, 'test/queue/fixtures/fatezero-cli.ts');

export type WorkerProcess = {child: ChildProcess; pid: number; output: () => string; exited: Promise<number | null>};

/** `fatezero worker` in a child; resolves once it says it is ready. */
export const startWorker = async (cli: string, args: string[], env: Record<string, string | undefined>): Promise<WorkerProcess> => {
	const child = spawn(process.execPath, [cli, 'worker', ...args], {env: childEnv({...S3_TEST_CREDENTIALS, ...env}), stdio: ['ignore', 'ignore', 'pipe']});
	let output = '';
	const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
	await new Promise<void>((resolve, reject) => {
		child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
			output += chunk;
			if (output.includes('] ready:')) resolve();
		});
		void exited.then((code) => reject(new Error(`worker exited with ${code} before it was ready:\n${output}`)));
	});
	return {child, pid: child.pid!, output: () => output, exited};
};

/** Stops workers (SIGTERM: finish, then exit) and waits for them. */
export const stopWorkers = async (workers: WorkerProcess[]): Promise<void> => {
	await Promise.all(
		workers.map(async (w) => {
			if (w.child.exitCode !== null || w.child.signalCode !== null) return;
			w.child.kill('SIGTERM');
			const timer = setTimeout(() => w.child.kill('SIGKILL'), 10_000);
			await w.exited;
			clearTimeout(timer);
		}),
	);
};
