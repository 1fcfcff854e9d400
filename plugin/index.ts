// Browser-safe entry (`remotion-fatezero`): nothing here may import a `node:` module or
// onnxruntime-node, because compositions import it into the Remotion bundle.
export {FateZeroError, isFateZeroError} from './errors/index.js';
export type {FateZeroErrorCode} from './errors/index.js';
export {ATTENTION_PRESETS, referenceFrameTable} from './clip/reference-frames.js';
export type {AttentionPreset, ReferenceFrameSpec} from './clip/reference-frames.js';
export {ClipTokenizer, DdimScheduler, SD1_SCHEDULER_CONFIG} from './diffusion/index.js';
export type {ClipEncoding, ClipTokenizerInit} from './diffusion/index.js';
export {buildPromptEdit, chooseController, CONTROLLER_OPTIONS} from './fatezero/prompt-to-prompt/index.js';
export type {ControllerOption, CrossReplaceSteps, PromptEdit, StepWindow} from './fatezero/prompt-to-prompt/index.js';
export * from './clip/index.js';
export * from './remotion/index.js';
