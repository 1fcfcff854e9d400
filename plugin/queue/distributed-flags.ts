import {FateZeroError} from '../errors/fatezero-error.js';
import {openStore} from '../store/open-store.js';
import {QueueCoordinator, type QueueCoordinatorOptions} from './queue-coordinator.js';
import {parseQueueUrl} from './queue-protocol.js';

/** parseArgs options of the commands that can run their clips on remote workers. */
export const DISTRIBUTED_FLAG_OPTIONS = {
	queue: {type: 'string'},
	store: {type: 'string'},
} as const;

export const DISTRIBUTED_HELP = `Distributed (workers started with \`fatezero worker\` on other machines):
  --queue redis://HOST:PORT   Submit the inversions and edits to this Redis queue, follow them and wait.
  --store DIR|s3://…          The store the workers share (needed with --queue). Sources are imported
                              here and published to it; raw videos never travel. With s3:// the
                              clips' public tree is uploaded too, for renders that read frames by URL.`;

/** A coordinator when --queue is given (then --store is required), else null: the command runs locally. */
export const coordinatorFromFlags = (values: {queue?: string; store?: string}, options: Omit<QueueCoordinatorOptions, 'queue' | 'store'>): QueueCoordinator | null => {
	if (values.queue === undefined && values.store === undefined) return null;
	if (values.queue === undefined || values.store === undefined) {
		throw new FateZeroError('INVALID_OPTION', `--queue and --store go together: the workers read and write the store the queue's jobs name. Got only ${values.queue === undefined ? `--store ${values.store}` : `--queue ${values.queue}`}.`);
	}
	return new QueueCoordinator({...options, queue: parseQueueUrl(values.queue), store: openStore(values.store)});
};
