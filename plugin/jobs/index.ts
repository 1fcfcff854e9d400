export {JobQueue} from './job-queue.js';
export type {JobQueueOptions} from './job-queue.js';
export {runClipJob, FRAME_FOLDER_FPS} from './run-clip-job.js';
export type {ClipJobOptions, ClipJobResult} from './run-clip-job.js';
export {EnginePool} from './engine-pool.js';
export type {JobProgress, OnJobProgress} from './job-progress.js';
