import {rmSync} from 'node:fs';
import path from 'node:path';
import {renderMedia, selectComposition, type Codec} from '@remotion/renderer';
import {markEntriesInUse} from '../frame-cache/entry-in-use.js';
import {prerender, type PrerenderOptions, type PrerenderResult} from './prerender.js';
import {resolveBrowserExecutable} from './browser-executable.js';
import {bundleProject} from './bundle-project.js';

export type RenderWithFateZeroOptions = PrerenderOptions & {
	outputLocation: string;
	/** Default 'h264'. */
	codec?: Codec;
	/** Frames rendered in parallel (Remotion's --concurrency): a number or a share such as "50%". */
	concurrency?: number | string | null;
	onRenderProgress?: (progress: number) => void;
};

/**
 * Pre-render the composition's clips, then render it with Remotion through the Node APIs: one
 * call for users' own render scripts. Bundled with the project's remotion.config.ts settings; the
 * bundle is removed at the end. (The `fatezero render` command runs `remotion render` itself, so
 * every Remotion flag works there.)
 */
export const renderWithFateZero = async (options: RenderWithFateZeroOptions): Promise<PrerenderResult & {outputLocation: string}> => {
	const prepared = await prerender(options);
	const {project} = prepared;
	const browserExecutable = resolveBrowserExecutable(options.browserExecutable ?? project.browserExecutable);
	const serveUrl = options.serveUrl ?? (await bundleProject(options.entryPoint, project));
	// gc must not remove what this render shows while it runs
	const usage = await markEntriesInUse(prepared.cacheDir, prepared.clips.flatMap((c) => [{kind: 'clips' as const, key: c.key}, {kind: 'sources' as const, key: c.sourceKey}]));
	try {
		const inputProps = options.inputProps ?? {};
		const composition = await selectComposition({serveUrl, id: options.compositionId, inputProps, browserExecutable, envVariables: project.envVariables, logLevel: 'error'});
		const outputLocation = path.resolve(options.outputLocation);
		await renderMedia({
			composition,
			serveUrl,
			codec: options.codec ?? 'h264',
			outputLocation,
			inputProps,
			browserExecutable,
			envVariables: project.envVariables,
			concurrency: options.concurrency ?? null,
			overwrite: true,
			logLevel: 'error',
			cancelSignal: undefined,
			onProgress: ({progress}) => options.onRenderProgress?.(progress),
		});
		return {...prepared, outputLocation};
	} finally {
		await usage.release();
		if (!options.serveUrl) rmSync(serveUrl, {recursive: true, force: true});
	}
};
