// Node: the Studio job server that <FateZeroClip> asks for missing clips (`fatezero studio`).
export {startJobServer} from './job-server.js';
export type {JobServer, JobServerOptions} from './job-server.js';
export {StudioJobs} from './studio-jobs.js';
export type {StudioJobQueue, StudioJobsOptions} from './studio-jobs.js';
export {checkJobRequest} from './job-request-checks.js';
export {checkRequestOrigin, studioOrigins} from './origin-policy.js';
export {DEFAULT_JOB_SERVER_PORT, JOB_SERVER_ENV} from '../clip/studio-job-state.js';
export type {StudioJobStage, StudioJobState, StudioJobServerError} from '../clip/studio-job-state.js';
