// Prompt-to-prompt data of FateZero's attention fusion (fatezero-spec §2): pure computations on
// token ids, browser-safe (no node: imports), so the Remotion bundle and Studio can use them too.
export {blendAlphaRows} from './blend-words.js';
export type {BlendAlphaRows, BlendWords} from './blend-words.js';
export {buildPromptEdit} from './build-prompt-edit.js';
export type {CrossAttentionEdit, PromptEdit, PromptEditOptions} from './build-prompt-edit.js';
export {CONTROLLER_OPTIONS, chooseController, controllerFromOfficial} from './choose-controller.js';
export type {ControllerChoice, ControllerKind, ControllerOption} from './choose-controller.js';
export {equalizer} from './equalizer.js';
export type {Equalizer, ReweightOptions} from './equalizer.js';
export {didYouMean, nearMisses, promptTruncationWarnings, promptWords, wordCount, wordPositions} from './prompt-words.js';
export type {PromptTokenizer, PromptWord} from './prompt-words.js';
export {alignTokenIds, refinementMapper} from './refinement-mapper.js';
export type {RefinementMapper} from './refinement-mapper.js';
export {replacementMapper} from './replacement-mapper.js';
export {DEFAULT_WINDOW_KEY, checkStepWindow, crossReplaceAlpha, selfReplaceWindow} from './time-windows.js';
export type {CrossReplaceAlpha, CrossReplaceSteps, StepWindow} from './time-windows.js';
