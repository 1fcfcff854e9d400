/**
 * The parts of plugin/ and which parts each may import (design: the layers of the plugin). A part
 * is a folder under plugin/ (subfolders belong to it); the two entry files are parts of their own.
 * `npm test` runs check-architecture.ts over every import before the test suite, so a new import
 * that crosses these lines fails CI. Change this file deliberately, with the design.
 */

export type PartRule = {
	/** What the part is, for the failure message. */
	role: string;
	/** Parts it may import (itself always). */
	mayImport: readonly string[];
	/**
	 * Browser code: no node: builtins, no native packages, only the packages in BROWSER_PACKAGES;
	 * it imports browser parts and BROWSER_SAFE_MODULES only, checked transitively.
	 */
	browser?: boolean;
};

export const PARTS: Record<string, PartRule> = {
	errors: {role: 'FateZeroError and its codes', mayImport: [], browser: true},
	clip: {role: 'clip descriptors, keys, defaults and the protocol shared by browser and Node', mayImport: ['errors'], browser: true},
	remotion: {role: 'the Remotion components and hooks (browser)', mayImport: ['clip', 'errors'], browser: true},
	'index.ts': {role: 'the browser entry', mayImport: ['clip', 'diffusion', 'errors', 'fatezero', 'remotion'], browser: true},
	media: {role: 'importing, decoding and writing frames', mayImport: ['clip', 'errors', 'model']},
	model: {role: 'model folders: configs, safetensors, identity', mayImport: ['errors']},
	runtime: {role: 'onnxruntime sessions, providers, threads', mayImport: ['errors']},
	graph: {role: 'ONNX graphs of the SD-1.x components', mayImport: ['errors', 'model', 'runtime']},
	diffusion: {role: 'Stable Diffusion: tokenizer, VAE, DDIM', mayImport: ['errors', 'graph', 'media', 'model', 'runtime']},
	'model-generator': {role: 'the random-weight test model', mayImport: ['diffusion', 'errors', 'graph', 'model']},
	fatezero: {role: 'the FateZero engine and its stages', mayImport: ['clip', 'diffusion', 'errors', 'graph', 'media', 'model', 'runtime']},
	'frame-cache': {role: 'the content-addressed store', mayImport: ['clip', 'errors']},
	store: {role: 'shared stores (directory, S3) that cache entries sync with', mayImport: ['errors', 'frame-cache']},
	project: {role: 'project settings and model resolution', mayImport: ['errors', 'frame-cache', 'model', 'model-generator', 'runtime']},
	jobs: {role: 'clip jobs, the engine pool and the queue', mayImport: ['clip', 'diffusion', 'errors', 'fatezero', 'frame-cache', 'media', 'model', 'project', 'runtime']},
	queue: {role: 'the distributed queue: coordinator and workers over the clip job stages', mayImport: ['clip', 'errors', 'frame-cache', 'jobs', 'model', 'project', 'runtime', 'store']},
	studio: {role: 'the Studio job server', mayImport: ['clip', 'errors', 'frame-cache', 'jobs', 'media', 'project', 'runtime']},
	node: {role: 'Node-side Remotion integration: prerender, bundle, render', mayImport: ['clip', 'errors', 'frame-cache', 'jobs', 'project']},
	cli: {
		role: 'the fatezero command',
		mayImport: ['clip', 'diffusion', 'errors', 'fatezero', 'frame-cache', 'graph', 'jobs', 'media', 'model', 'model-generator', 'node', 'project', 'queue', 'runtime', 'store', 'studio'],
	},
	'node.ts': {
		role: 'the Node entry',
		mayImport: ['clip', 'diffusion', 'errors', 'fatezero', 'frame-cache', 'graph', 'index.ts', 'jobs', 'media', 'model', 'model-generator', 'node', 'project', 'queue', 'runtime', 'store', 'studio'],
	},
};

/**
 * Modules of Node parts that browser code may import (pure computations, re-exported by the
 * browser entry). Everything they import, transitively, is checked like browser code.
 */
export const BROWSER_SAFE_MODULES: readonly string[] = ['diffusion/index.ts', 'diffusion/clip-tokenizer.ts', 'diffusion/ddim-scheduler.ts', 'fatezero/prompt-to-prompt/'];

/** Packages browser code may import, by package name (Remotion bundles them for the page). */
export const BROWSER_PACKAGES: readonly string[] = ['react', 'remotion', 'zod', '@noble/hashes', '@remotion/zod-types'];
