export {JobQueue} from './job-queue.js';
export type {JobQueueOptions} from './job-queue.js';
export {ensureEdit, ensureInversion, ensureSource, FRAME_FOLDER_FPS, prepareClipJob, publishClip, runClipJob} from './run-clip-job.js';
export type {ClipJob, ClipJobOptions, ClipJobResult} from './run-clip-job.js';
export {EnginePool} from './engine-pool.js';
export type {EnginePoolSettings} from './engine-pool.js';
export type {JobProgress, OnJobProgress} from './job-progress.js';
