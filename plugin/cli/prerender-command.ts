import path from 'node:path';
import {parseArgs} from 'node:util';
import {FateZeroError} from '../errors/fatezero-error.js';
import {prerender} from '../node/prerender.js';
import {renderWithFateZero} from '../node/render-with-fatezero.js';
import {readVariantsFile} from '../node/parse-variants.js';
import {renderVariants, type VariantProgress, type VariantResult} from '../node/render-variants.js';
import type {JobProgress} from '../jobs/job-progress.js';
import {withArgErrors, integerOption} from './parse-cli-args.js';
import {parsePropsOption} from './parse-props.js';
import {createProgressDisplay, formatTable} from './progress-display.js';
import type {ClipJobResult} from '../jobs/run-clip-job.js';

export const PRERENDER_HELP = `fatezero prerender <entry> <composition> [--props JSON|FILE] [--cache-dir DIR] [--browser-executable PATH]

Discovers the FateZero clips the composition needs (without rendering frames) and computes the
missing ones into the cache, so \`npx remotion render\` finds them all.`;

export const RENDER_HELP = `fatezero render <entry> <composition> <out> [--props JSON|FILE] [--concurrency N] [--cache-dir DIR] [--browser-executable PATH]
fatezero render <entry> <composition> --variants FILE --out-dir DIR [--props JSON|FILE] [--fail-fast] [--json] [...]

Pre-renders the composition's clips, then renders it with Remotion (one command).

With --variants, renders the composition once per variant into <out-dir>/<name>.mp4. FILE is a
JSON array (or {"variants": [...]}) of {"name": "…", "props": {…}}; each variant's props are
shallow-merged over the composition's default props, after --props. Every variant is validated
and its clips discovered before any work; the project is bundled once; all clip jobs share one
queue, so variants of one source and source prompt share one inversion; each variant renders as
soon as its own clips are ready. Ends with a table and <out-dir>/manifest.json (same rows).

Options:
  --props JSON|FILE          Props for every variant (inline JSON or a JSON file), like npx remotion.
  --concurrency N            Frames rendered in parallel per render.
  --cache-dir DIR            Default FATEZERO_CACHE_DIR or ./cache.
  --browser-executable PATH  Chrome/Chromium to render with (default /usr/bin/chromium when present).
  --variants FILE            Render a batch of variants (needs --out-dir instead of <out>).
  --out-dir DIR              Where the variants' outputs and manifest.json go.
  --fail-fast                Stop at the first failed variant (default: render the rest and report).
  --json                     A JSON summary as the last stdout line; with --variants, progress
                             events as JSON lines on stderr instead of bars.
Exit code 1 when any variant failed.`;

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

const renderOptions = {
	...options,
	variants: {type: 'string'},
	'out-dir': {type: 'string'},
	'fail-fast': {type: 'boolean'},
} as const;

const parseRenderArgs = (args: string[]) => withArgErrors('render', () => parseArgs({args, strict: true, allowPositionals: true, options: renderOptions}));

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

// Outputs under the working directory read best relative; anywhere else, absolute.
const displayPath = (file: string) => {
	const relative = path.relative(process.cwd(), file);
	return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
};

const variantsTable = (rows: VariantResult[]) =>
	formatTable(
		['variant', 'output', 'status', 'hits', 'misses', 'jobs', 'render', 'time'],
		rows.map((r) => [r.variant, displayPath(r.output), r.status, String(r.cacheHits), String(r.cacheMisses), seconds(r.jobsMs), seconds(r.renderMs), seconds(r.timeMs)]),
	);

/** `fatezero render … --variants FILE --out-dir DIR`: a thin shell over renderVariants(). */
const renderVariantsCommand = async ({values, positionals}: ReturnType<typeof parseRenderArgs>): Promise<number> => {
	if (positionals.length !== 2) {
		throw new FateZeroError('INVALID_OPTION', `fatezero render --variants takes <entry> <composition> (outputs go to --out-dir); got ${positionals.length} arguments. Run "fatezero render --help".`);
	}
	if (!values['out-dir']) throw new FateZeroError('INVALID_OPTION', '--variants needs --out-dir DIR: each variant renders to DIR/<name>.mp4. Run "fatezero render --help".');
	const variants = readVariantsFile(values.variants!);
	const json = values.json === true;
	const display = createProgressDisplay();
	const writeJson = (event: object) => process.stderr.write(`${JSON.stringify(event)}\n`);
	// The bars print a stage name; a render is one more stage of a variant's line.
	const showVariant = (event: VariantProgress) => display.update({...event, job: `▶ ${event.variant}`, stage: (event.stage === 'rendering' ? 'render' : event.stage) as JobProgress['stage']});
	const abort = new AbortController();
	const onSignal = () => abort.abort(new FateZeroError('ABORTED', 'Cancelled (SIGINT): finished clips stay cached; run the command again to resume.'));
	process.once('SIGINT', onSignal);
	const started = performance.now();
	try {
		const result = await renderVariants({
			entryPoint: positionals[0],
			compositionId: positionals[1],
			variants,
			variantsOrigin: path.basename(values.variants!),
			outDir: values['out-dir'],
			inputProps: parsePropsOption(values.props),
			cacheDir: values['cache-dir'],
			browserExecutable: values['browser-executable'],
			concurrency: values.concurrency === undefined ? null : integerOption('concurrency', values.concurrency, 1),
			failFast: values['fail-fast'] === true,
			signal: abort.signal,
			onProgress: json ? writeJson : display.update,
			onVariantProgress: json ? writeJson : showVariant,
			onBundleProgress: json ? (percent) => writeJson({bundle: percent}) : undefined,
		});
		console.log(variantsTable(result.variants));
		for (const row of result.variants) if (row.error) console.error(`✖ ${row.variant}: ${row.error}`);
		console.log(`${result.variants.filter((r) => r.status === 'rendered').length}/${result.variants.length} variants rendered in ${seconds(performance.now() - started)}; manifest: ${result.manifestPath}`);
		if (json) console.log(JSON.stringify({ok: result.ok, outDir: result.outDir, manifest: result.manifestPath, variants: result.variants}));
		return result.ok ? 0 : 1;
	} finally {
		process.off('SIGINT', onSignal);
	}
};

export const renderCommand = async (args: string[]): Promise<number> => {
	const parsed = parseRenderArgs(args);
	const {values, positionals} = parsed;
	if (values.variants !== undefined) return renderVariantsCommand(parsed);
	if (values['out-dir'] !== undefined || values['fail-fast']) {
		throw new FateZeroError('INVALID_OPTION', `--out-dir and --fail-fast belong to --variants batches. For one output pass <out>, for a batch add --variants FILE. Run "fatezero render --help".`);
	}
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
