import {parseArgs} from 'node:util';
import {FateZeroError} from '../errors/fatezero-error.js';
import {startClipWorker} from '../queue/clip-worker.js';
import {parseQueueUrl, QUEUE_DEFAULTS} from '../queue/queue-protocol.js';
import {openStore} from '../store/open-store.js';
import {integerOption, withArgErrors} from './parse-cli-args.js';
import {printSettings, SETTINGS_FLAG_OPTIONS, SETTINGS_HELP, settingsFromFlags} from './settings-flags.js';

export const WORKER_HELP = `fatezero worker --queue redis://HOST:PORT --store DIR|s3://BUCKET/PREFIX?endpoint=URL [--concurrency 1] [settings]

A GPU worker: takes inversion and edit jobs from the Redis queue that \`fatezero run|prerender|render
--queue … --store …\` fill, computes them with the engine kept loaded between jobs, and publishes
the results into the shared store. Start one per GPU. A job whose model or engine settings differ
from this worker's is refused (the coordinator reports it). SIGINT/SIGTERM finish the running job,
then stop; a second signal stops at once (another worker re-runs the job after the lock expires).

Options:
  --queue redis://HOST:PORT   The Redis server shared by the coordinators and workers.
  --store DIR|s3://…          The shared store: a directory every machine mounts, or an S3-compatible
                              bucket (s3://BUCKET/PREFIX?endpoint=URL; AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
  --concurrency N             Jobs at once. Default 1 (one job uses the whole GPU).
  --lock-duration-s N         How long a job stays locked without renewal (and so how long a crashed
                              worker's job waits before another worker takes it). Default ${QUEUE_DEFAULTS.lockDurationMs / 1000}.
  --stalled-interval-s N      How often this worker looks for jobs of crashed workers. Default ${QUEUE_DEFAULTS.stalledIntervalMs / 1000}.
  --memory-budget-mb N        Working memory allowed beyond the weights.
  --cache-dir DIR             This worker's local copy of the store and its compiled graphs.

${SETTINGS_HELP}`;

export const workerCommand = async (args: string[]): Promise<number> => {
	const {values, positionals} = withArgErrors('worker', () =>
		parseArgs({
			args,
			strict: true,
			allowPositionals: true,
			options: {
				...SETTINGS_FLAG_OPTIONS,
				queue: {type: 'string'},
				store: {type: 'string'},
				concurrency: {type: 'string'},
				'lock-duration-s': {type: 'string'},
				'stalled-interval-s': {type: 'string'},
				'memory-budget-mb': {type: 'string'},
			},
		}),
	);
	if (positionals.length > 0) throw new FateZeroError('INVALID_OPTION', `fatezero worker takes no arguments besides options; got "${positionals.join(' ')}". Run "fatezero worker --help".`);
	if (!values.queue || !values.store) throw new FateZeroError('INVALID_OPTION', `fatezero worker needs --queue redis://HOST:PORT and --store DIR|s3://BUCKET/PREFIX; got ${values.queue ? '' : 'no --queue'}${!values.queue && !values.store ? ' and ' : ''}${values.store ? '' : 'no --store'}. Run "fatezero worker --help".`);
	const queue = parseQueueUrl(values.queue);
	const store = openStore(values.store);
	const settings = settingsFromFlags(values);
	printSettings(settings);
	const log = (line: string) => process.stderr.write(`[worker ${process.pid}] ${line}\n`);
	const worker = await startClipWorker({
		queue,
		store,
		cacheDir: settings.cacheDir.value,
		model: settings.model,
		executionProvider: settings.executionProvider.value,
		computeType: settings.computeType.value,
		threads: settings.threads.value,
		concurrency: integerOption('concurrency', values.concurrency, 1),
		lockDurationMs: integerOption('lock-duration-s', values['lock-duration-s'], QUEUE_DEFAULTS.lockDurationMs / 1000) * 1000,
		stalledIntervalMs: integerOption('stalled-interval-s', values['stalled-interval-s'], QUEUE_DEFAULTS.stalledIntervalMs / 1000) * 1000,
		memoryBudgetInMegabytes: values['memory-budget-mb'] === undefined ? undefined : integerOption('memory-budget-mb', values['memory-budget-mb'], 0),
		log,
	});
	log(`ready: queue ${queue.host}:${queue.port}, store ${store.description}`);
	await new Promise<void>((resolve) => {
		let stopping = false;
		const stop = (signal: NodeJS.Signals) => {
			if (stopping) {
				log(`${signal} again: stopping now`);
				void worker.close({force: true}).finally(resolve);
				return;
			}
			stopping = true;
			log(`${signal}: finishing the running job, then stopping`);
			void worker.close().finally(resolve);
		};
		process.on('SIGINT', stop);
		process.on('SIGTERM', stop);
	});
	await store.close();
	return 0;
};
