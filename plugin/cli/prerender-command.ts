import {parseArgs} from 'node:util';
import {FateZeroError} from '../errors/fatezero-error.js';
import {prerender} from '../node/prerender.js';
import {renderWithFateZero} from '../node/render-with-fatezero.js';
import {withArgErrors, integerOption} from './parse-cli-args.js';
import {parsePropsOption} from './parse-props.js';
import {createProgressDisplay, formatTable} from './progress-display.js';
import type {ClipJobResult} from '../jobs/run-clip-job.js';

export const PRERENDER_HELP = `fatezero prerender <entry> <composition> [--props JSON|FILE] [--cache-dir DIR] [--browser-executable PATH]

Discovers the FateZero clips the composition needs (without rendering frames) and computes the
missing ones into the cache, so \`npx remotion render\` finds them all.`;

export const RENDER_HELP = `fatezero render <entry> <composition> <out> [--props JSON|FILE] [--concurrency N] [--cache-dir DIR] [--browser-executable PATH]

Pre-renders the composition's clips, then renders it with Remotion (one command).`;

const options = {
	props: {type: 'string'},
	'cache-dir': {type: 'string'},
	'browser-executable': {type: 'string'},
	concurrency: {type: 'string'},
	json: {type: 'boolean'},
} as const;

const summary = (clips: ClipJobResult[]) =>
	formatTable(
		['clip', 'key', 'source', 'inversion', 'edit'],
		clips.map((c) => [c.descriptor.label ?? c.descriptor.prompt.slice(0, 30), c.key.slice(0, 12), c.statuses.source, c.statuses.inversion, c.statuses.clip]),
	);

export const prerenderCommand = async (args: string[]): Promise<number> => {
	const {values, positionals} = withArgErrors('prerender', () => parseArgs({args, strict: true, allowPositionals: true, options}));
	if (positionals.length !== 2) throw new FateZeroError('INVALID_OPTION', `fatezero prerender takes <entry> <composition>; got ${positionals.length} arguments. Run "fatezero prerender --help".`);
	const display = createProgressDisplay();
	const result = await prerender({
		entryPoint: positionals[0],
		compositionId: positionals[1],
		inputProps: parsePropsOption(values.props),
		cacheDir: values['cache-dir'],
		browserExecutable: values['browser-executable'],
		onProgress: display.update,
	});
	console.log(summary(result.clips));
	if (values.json) console.log(JSON.stringify({clips: result.clips.map((c) => ({key: c.key, status: c.status, path: c.path}))}));
	return 0;
};

export const renderCommand = async (args: string[]): Promise<number> => {
	const {values, positionals} = withArgErrors('render', () => parseArgs({args, strict: true, allowPositionals: true, options}));
	if (positionals.length !== 3) throw new FateZeroError('INVALID_OPTION', `fatezero render takes <entry> <composition> <out>; got ${positionals.length} arguments. Run "fatezero render --help".`);
	const display = createProgressDisplay();
	const started = performance.now();
	const result = await renderWithFateZero({
		entryPoint: positionals[0],
		compositionId: positionals[1],
		outputLocation: positionals[2],
		inputProps: parsePropsOption(values.props),
		cacheDir: values['cache-dir'],
		browserExecutable: values['browser-executable'],
		concurrency: values.concurrency === undefined ? null : integerOption('concurrency', values.concurrency, 1),
		onProgress: display.update,
		onRenderProgress: (progress) => display.update({job: 'render', stage: 'done', step: Math.round(progress * 100), total: 100, etaSeconds: null}),
	});
	console.log(summary(result.clips));
	console.log(`Rendered ${result.outputLocation} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
	if (values.json) console.log(JSON.stringify({output: result.outputLocation, clips: result.clips.map((c) => ({key: c.key, status: c.status, path: c.path}))}));
	return 0;
};
