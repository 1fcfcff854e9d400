import {Worker} from 'node:worker_threads';
// Sessions live in the worker, but a worker's process.env is a copy that native code never sees:
// the switch must be set in the real environment, i.e. here on the main thread, before it starts.
import './disable-ort-telemetry.js';

/**
 * Starts the inference worker thread, from compiled JS (dist) or from TypeScript sources (tests
 * under vitest, `tsx` scripts). This file and inference-worker.{ts,js} always sit side by side,
 * so this file's own extension tells which one to start.
 */
export const startInferenceWorker = (): Worker => {
	const self = import.meta.url;
	if (!self.endsWith('.ts')) return new Worker(new URL('./inference-worker.js', self));
	const entry = new URL('./inference-worker.ts', self).href;
	// `execArgv: ['--import', 'tsx']` does not work on Node 20.20: the worker resolves its .ts
	// entry before the hooks registered by --import apply (ERR_UNKNOWN_FILE_EXTENSION). Registering
	// tsx from a bootstrap and then importing the entry does. tsx is a devDependency, only needed
	// when running from sources; resolve it from here so the cwd does not matter.
	const tsxApi = import.meta.resolve('tsx/esm/api');
	const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
	return new Worker(bootstrap, {eval: true, execArgv: []});
};
