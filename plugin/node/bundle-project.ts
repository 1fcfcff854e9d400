import {mkdirSync} from 'node:fs';
import path from 'node:path';
import {bundle} from '@remotion/bundler';

/**
 * Bundles a Remotion entry with the cache as public dir. The public dir is symlinked, not copied,
 * so clips published after bundling are visible to the render (remotion-notes §4.3), and `.js`
 * import specifiers resolve to TypeScript sources (this package's ESM style).
 */
export const bundleProject = (entryPoint: string, cacheDir: string, onProgress?: (percent: number) => void): Promise<string> => {
	// A public dir that does not exist yet is not linked at all, and clips published later would 404.
	mkdirSync(cacheDir, {recursive: true});
	return bundle({
		entryPoint: path.resolve(entryPoint),
		publicDir: cacheDir,
		symlinkPublicDir: true,
		enableCaching: true,
		onProgress,
		webpackOverride: (config) => ({
			...config,
			resolve: {...config.resolve, extensionAlias: {'.js': ['.ts', '.tsx', '.js'], ...(config.resolve?.extensionAlias ?? {})}},
		}),
	});
};
