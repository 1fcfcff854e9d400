export {startClipWorker} from './clip-worker.js';
export type {ClipWorker, ClipWorkerOptions} from './clip-worker.js';
export {QueueCoordinator} from './queue-coordinator.js';
export type {QueueCoordinatorOptions} from './queue-coordinator.js';
export {parseQueueUrl, QUEUE_DEFAULTS, QUEUE_NAME, stageJobId} from './queue-protocol.js';
export type {RedisLocation, StageJobData, StageJobResult, StageName} from './queue-protocol.js';
