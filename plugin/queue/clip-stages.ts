import type {ClipDescriptor} from '../clip/clip-descriptor.js';
import type {ClipContentKeys, EngineKeyOptions} from '../frame-cache/content-keys.js';
import type {ModelFolder} from '../model/read-model-folder.js';
import type {ClipJob, ClipJobOptions} from '../jobs/run-clip-job.js';
import type {ProgressTick} from '../jobs/job-progress.js';

// The one engine pipeline, as the queue calls it: the stage functions of run-clip-job.ts.
// Coordinators run prepareClipJob and ensureSource (they have the source) and publishClip; workers
// run ensureInversion or ensureEdit on a job rebuilt from the queue's data.
export {ensureEdit, ensureInversion, ensureSource, prepareClipJob, publishClip} from '../jobs/run-clip-job.js';
export type {ClipJob, ClipJobOptions, ClipJobResult} from '../jobs/run-clip-job.js';

/** On a worker: the ClipJob the coordinator prepared, from the job's data, with this machine's model, cache and pool. */
export const workerClipJob = (options: {
	jobOptions: ClipJobOptions;
	descriptor: ClipDescriptor;
	descriptorKey: string;
	contentHash: string;
	keys: ClipContentKeys;
	engineRun: EngineKeyOptions;
	model: {dir: string; generated: boolean; folder: ModelFolder};
	tick: ProgressTick;
}): ClipJob => ({
	options: options.jobOptions,
	descriptor: options.descriptor,
	descriptorKey: options.descriptorKey,
	// the source stays where the coordinator imported it; workers read the published sources entry
	sourcePath: '',
	contentHash: options.contentHash,
	model: options.model,
	engineRun: options.engineRun,
	keys: options.keys,
	tick: options.tick,
	lock: {signal: options.jobOptions.signal, onWait: () => options.tick('wait', 0, 1)},
});
