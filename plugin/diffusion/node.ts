// Node-only parts of the diffusion folder (they read model files with node:fs).
export {loadClipTokenizer} from './load-clip-tokenizer.js';
