export {FateZeroError, isFateZeroError} from './fatezero-error.js';
export type {FateZeroErrorCode} from './fatezero-error.js';
