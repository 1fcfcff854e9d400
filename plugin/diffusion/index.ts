// Browser-safe: nothing here imports node:*. The Node file loaders are in ./node.ts.
export {ClipTokenizer, cleanClipText} from './clip-tokenizer.js';
export type {ClipEncodeOptions, ClipEncoding, ClipSpecialTokens, ClipTokenizerFiles, ClipTokenizerInit} from './clip-tokenizer.js';
export {DdimScheduler, SD1_SCHEDULER_CONFIG} from './ddim-scheduler.js';
