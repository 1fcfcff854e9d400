// Browser-safe Remotion side of the plugin: no node: imports (compositions bundle it).
export {FateZeroClip, clipFrameAt} from './fatezero-clip-component.js';
export type {FateZeroClipProps} from './fatezero-clip-component.js';
export {useFateZeroClip, forgetFateZeroLookups} from './use-fatezero-clip.js';
export type {FateZeroClipState} from './use-fatezero-clip.js';
export {fateZeroMetadata} from './calculate-fatezero-metadata.js';
export type {FateZeroMetadataOptions} from './calculate-fatezero-metadata.js';
export {resolveClip, clipFrameUrl, clipBaseUrl, setFateZeroFrameBaseUrl} from './resolve-clip.js';
export type {ResolvedClip} from './resolve-clip.js';
export {findClipDescriptors} from '../clip/find-clip-descriptors.js';
export {COLLECT_PROP, JOBS_PROP, setFateZeroEntryPoint} from '../clip/collect-protocol.js';
export {setFateZeroJobServer, fateZeroJobServerUrl, useStudioJob} from './use-studio-job.js';
export type {StudioJobView} from './use-studio-job.js';
export {StudioProgressCard} from './studio-progress-card.js';
export {setFateZeroDrafts} from './use-draft-clip.js';
export {draftClip, DRAFT_SETTINGS} from '../clip/draft-clip.js';
export type {StudioProgressCardProps} from './studio-progress-card.js';
export type {StudioJobStage, StudioJobState} from '../clip/studio-job-state.js';
