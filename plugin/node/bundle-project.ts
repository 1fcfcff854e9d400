import {bundle} from '@remotion/bundler';
import path from 'node:path';
import type {RemotionProject} from './remotion-project.js';

/**
 * Bundles a Remotion entry as `npx remotion` would in this project: its public dir and webpack
 * override from remotion.config.ts (or FateZero's public dir setting). The public dir is
 * symlinked, not copied, so clips published into its fatezero/ subfolder after bundling are
 * visible to the render (remotion-notes §11.2). Remove the returned folder when done.
 */
export const bundleProject = (entryPoint: string, project: RemotionProject, onProgress?: (percent: number) => void): Promise<string> =>
	bundle({
		entryPoint: path.resolve(project.remotionRoot, entryPoint),
		rootDir: project.remotionRoot,
		publicDir: project.publicDir.value,
		symlinkPublicDir: true,
		enableCaching: project.enableCaching,
		rspack: project.rspack,
		onProgress,
		webpackOverride: project.webpackOverride,
	});
