import path from 'node:path';
import {renderMedia, selectComposition, type Codec} from '@remotion/renderer';
import {prerender, type PrerenderOptions, type PrerenderResult} from './prerender.js';
import {resolveBrowserExecutable} from './browser-executable.js';

export type RenderWithFateZeroOptions = PrerenderOptions & {
	outputLocation: string;
	/** Default 'h264'. */
	codec?: Codec;
	/** Frames rendered in parallel (Remotion's --concurrency). */
	concurrency?: number | null;
	onRenderProgress?: (progress: number) => void;
};

/** Pre-render the composition's clips, then render it with Remotion: one call for users' own render scripts. */
export const renderWithFateZero = async (options: RenderWithFateZeroOptions): Promise<PrerenderResult & {outputLocation: string}> => {
	const browserExecutable = resolveBrowserExecutable(options.browserExecutable);
	const prepared = await prerender({...options, browserExecutable});
	const inputProps = options.inputProps ?? {};
	const composition = await selectComposition({serveUrl: prepared.serveUrl, id: options.compositionId, inputProps, browserExecutable, logLevel: 'error'});
	const outputLocation = path.resolve(options.outputLocation);
	await renderMedia({
		composition,
		serveUrl: prepared.serveUrl,
		codec: options.codec ?? 'h264',
		outputLocation,
		inputProps,
		browserExecutable,
		concurrency: options.concurrency ?? null,
		overwrite: true,
		logLevel: 'error',
		cancelSignal: undefined,
		onProgress: ({progress}) => options.onRenderProgress?.(progress),
	});
	return {...prepared, outputLocation};
};
