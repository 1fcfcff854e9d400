// Browser-safe Remotion side of the plugin: no node: imports (compositions bundle it).
export {FateZeroClip, clipFrameAt} from './fatezero-clip-component.js';
export type {FateZeroClipProps} from './fatezero-clip-component.js';
export {useFateZeroClip, forgetFateZeroLookups} from './use-fatezero-clip.js';
export type {FateZeroClipState} from './use-fatezero-clip.js';
export {fateZeroMetadata} from './calculate-fatezero-metadata.js';
export type {FateZeroMetadataOptions} from './calculate-fatezero-metadata.js';
export {resolveClip, clipFrameUrl} from './resolve-clip.js';
export type {ResolvedClip} from './resolve-clip.js';
export {findClipDescriptors} from './find-clip-descriptors.js';
export {COLLECT_PROP, JOBS_PROP, setFateZeroEntryPoint} from './collect-protocol.js';
