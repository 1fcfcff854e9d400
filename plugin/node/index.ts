export {prerender, discoverClips} from './prerender.js';
export type {PrerenderOptions, PrerenderResult} from './prerender.js';
export {renderWithFateZero} from './render-with-fatezero.js';
export type {RenderWithFateZeroOptions} from './render-with-fatezero.js';
export {bundleProject} from './bundle-project.js';
export {loadRemotionProject} from './remotion-project.js';
export type {RemotionProject} from './remotion-project.js';
export {resolveBrowserExecutable} from './browser-executable.js';
export * from './render-variants.js';
