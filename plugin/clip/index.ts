// Browser-safe: the clip descriptor, shared by compositions, the CLI and the job server.
export {CLIP_DEFAULTS, NON_PIXEL_FIELDS} from './clip-defaults.js';
export type {
	AttentionReference,
	ClipAttention,
	ClipController,
	ClipDescriptor,
	ClipEdit,
	ClipFrames,
	CrossReplace,
	ReplaceWindow,
} from './clip-descriptor.js';
export {clipDescriptorSchema} from './clip-descriptor-schema.js';
export type {ClipDescriptorInput} from './clip-descriptor-schema.js';
export {fateZeroClip, parseClipDescriptor} from './fatezero-clip.js';
export {checkGuidance, checkJsonDepth, checkPrompt, checkSize, checkSteps, CLIP_LIMITS, displayLabel, parseJsonWithLimits, sizeMultipleForModel} from './clip-limits.js';
export {canonicalJson} from './canonical-json.js';
export type {JsonValue} from './canonical-json.js';
export {descriptorKey, descriptorKeyInputs} from './descriptor-key.js';
export {ENGINE_VERSION} from './engine-version.js';
export {sha256Hex} from './sha256-hex.js';
export {formatSchemaIssues} from './format-schema-issues.js';
export {PUBLIC_SUBFOLDER, FRAME_BASE_URL_ENV} from './public-layout.js';
