import {spawn} from 'node:child_process';
import path from 'node:path';
import {parseArgs} from 'node:util';
import {FateZeroError} from '../errors/fatezero-error.js';
import {markEntriesInUse} from '../frame-cache/entry-in-use.js';
import type {JobProgress} from '../jobs/job-progress.js';
import {resolveBrowserExecutable} from '../node/browser-executable.js';
import {readVariantsFile} from '../node/parse-variants.js';
import {prerender} from '../node/prerender.js';
import {loadRemotionProject, remotionBooleanFlags, remotionCliScript} from '../node/remotion-project.js';
import {renderVariants, type VariantProgress, type VariantResult} from '../node/render-variants.js';
import {clipsJson, clipSummary} from './clip-summary.js';
import {withArgErrors} from './parse-cli-args.js';
import {parsePropsOption} from './parse-props.js';
import {PRERENDER_OPTIONS} from './prerender-command.js';
import {coordinatorFromFlags, DISTRIBUTED_HELP} from '../queue/distributed-flags.js';
import {createProgressDisplay, formatTable} from './progress-display.js';
import {printSettings, SETTINGS_HELP, settingsFromFlags} from './settings-flags.js';
import {splitCliArgs} from './split-cli-args.js';
import {VARIANT_RENDER_HELP, VARIANT_RENDER_OPTIONS, variantRenderOptions} from './variant-render-flags.js';

export const RENDER_HELP = `fatezero render <entry> <composition> <out> [--json-progress] [--queue URL --store URL] [remotion render flags] [settings]
fatezero render <entry> <composition> --variants FILE --out-dir DIR [--props JSON|FILE] [--fail-fast] [--json] [--json-progress] [--queue URL --store URL] [render flags below] [settings]

Pre-renders the composition's clips (as \`fatezero prerender\`), then runs \`npx remotion render\`
of your project with every other flag as you gave it: --codec, --crf, --concurrency (N or "50%"),
--scale, --frames, --log, --timeout, --props … all mean what they mean to Remotion, and your
remotion.config.ts applies. /usr/bin/chromium is passed as the browser when neither a flag nor the
config names one (Remotion's own browser download needs network access).

With --variants, renders the composition once per variant into <out-dir>/<name>.<ext>. FILE is a
JSON array (or {"variants": [...]}) of {"name": "…", "props": {…}}; each variant's props are
shallow-merged over the composition's default props, after --props. Every variant is validated
and its clips discovered before any work; the project is bundled once; all clip jobs share one
queue, so variants of one source and source prompt share one inversion; each variant renders as
soon as its own clips are ready. Ends with a table and <out-dir>/manifest.json (same rows).
Exit code 1 when any variant failed. A batch renders in this process (Remotion's renderMedia), so
it takes the render flags listed below, each checked before any work; a render problem only the
composition shows (e.g. --frames past its end) fails that variant.

With --queue and --store (a single output or --variants), the clip jobs run on the workers
(\`fatezero worker\`) instead of this machine: every variant's inversions and edits are queued at
once, so variants of one source share one inversion and the workers edit them in parallel; each
finished clip is copied back into the local cache and public dir, and each variant renders here
as soon as its own clips are back. --fail-fast and Ctrl-C cancel the queued jobs (a worker stops
the one it runs); finished stages stay in the store.

  --json-progress      Clip job progress as NDJSON events on stderr ({"job", "type": "progress", "version": 1, …});
                       without a terminal, percentage lines.

${VARIANT_RENDER_HELP}

${DISTRIBUTED_HELP}

${SETTINGS_HELP}`;

const RENDER_OPTIONS = {
	...PRERENDER_OPTIONS,
	variants: {type: 'string'},
	'out-dir': {type: 'string'},
	'fail-fast': {type: 'boolean'},
	...VARIANT_RENDER_OPTIONS,
} as const;

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

type Parsed = {values: ReturnType<typeof parseRenderFlags>['values']; positionals: string[]};
const parseRenderFlags = (args: string[]) => withArgErrors('render', () => parseArgs({args, strict: true, allowPositionals: true, options: RENDER_OPTIONS}));

/** `fatezero render … --variants FILE --out-dir DIR`: a thin shell over renderVariants(). */
const renderVariantsCommand = async ({values, positionals}: Parsed): Promise<number> => {
	if (positionals.length !== 2) {
		throw new FateZeroError('INVALID_OPTION', `fatezero render --variants takes <entry> <composition> (outputs go to --out-dir); got ${positionals.length} arguments. Run "fatezero render --help".`);
	}
	if (!values['out-dir']) throw new FateZeroError('INVALID_OPTION', '--variants needs --out-dir DIR: each variant renders to DIR/<name>.mp4. Run "fatezero render --help".');
	// the render flags are checked first: a typo fails at once, before the project loads or anything runs
	const render = variantRenderOptions(values);
	const settings = settingsFromFlags(values);
	const variants = readVariantsFile(values.variants!);
	const project = await loadRemotionProject(settings, process.cwd());
	printSettings(settings, project);
	const json = values.json === true;
	const display = createProgressDisplay({json: values['json-progress'] === true});
	const writeJson = (event: object) => process.stderr.write(`${JSON.stringify(event)}\n`);
	// The bars print a stage name; a render is one more stage of a variant's line.
	const showVariant = (event: VariantProgress) => display.update({...event, job: `▶ ${event.variant}`, stage: (event.stage === 'rendering' ? 'render' : event.stage) as JobProgress['stage']});
	const onProgress = json ? writeJson : display.update;
	// with --queue, the clip jobs run on remote workers; the renders still run here, one per variant
	const distributed = coordinatorFromFlags(values, {cacheDir: settings.cacheDir.value, projectRoot: settings.projectRoot, model: settings.model, executionProvider: settings.executionProvider.value, computeType: settings.computeType.value, publicDir: project.publicDir.value, onProgress});
	const abort = new AbortController();
	const onSignal = () => abort.abort(new FateZeroError('ABORTED', `Cancelled (SIGINT): finished clips stay ${distributed ? 'in the store' : 'cached'}; run the command again to resume.`));
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
			settings,
			project,
			browserExecutable: values['browser-executable'],
			...render,
			failFast: values['fail-fast'] === true,
			signal: abort.signal,
			onProgress,
			onVariantProgress: json ? writeJson : showVariant,
			onBundleProgress: json ? (percent) => writeJson({bundle: percent}) : undefined,
			queue: distributed ?? undefined,
		});
		if (distributed?.frameBaseUrl) console.error(`Frames are also at ${distributed.frameBaseUrl} (--frame-base-url for renders that read them by URL, e.g. on Lambda).`);
		console.log(variantsTable(result.variants));
		for (const row of result.variants) if (row.error) console.error(`✖ ${row.variant}: ${row.error}`);
		console.log(`${result.variants.filter((r) => r.status === 'rendered').length}/${result.variants.length} variants rendered in ${seconds(performance.now() - started)}; manifest: ${result.manifestPath}`);
		if (json) console.log(JSON.stringify({ok: result.ok, outDir: result.outDir, manifest: result.manifestPath, variants: result.variants}));
		return result.ok ? 0 : 1;
	} finally {
		process.off('SIGINT', onSignal);
		// waits for the jobs asked (a cancelled batch's are stopping), then closes the Redis connections
		await distributed?.close();
	}
};

/** Runs the project's own `remotion render` with the given arguments; resolves with its exit code. */
const runRemotionRender = (script: string, cwd: string, args: string[], env: Record<string, string>): Promise<number> =>
	new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [script, 'render', ...args], {cwd, env: {...process.env, ...env}, stdio: 'inherit'});
		const forward = (signal: NodeJS.Signals) => child.kill(signal);
		process.on('SIGINT', forward);
		process.on('SIGTERM', forward);
		child.once('error', reject);
		child.once('exit', (code, signal) => {
			process.off('SIGINT', forward);
			process.off('SIGTERM', forward);
			resolve(code ?? (signal ? 1 : 0));
		});
	});

export const renderCommand = async (args: string[]): Promise<number> => {
	if (args.includes('--variants') || args.some((a) => a.startsWith('--variants='))) {
		const parsed = parseRenderFlags(args);
		return renderVariantsCommand(parsed);
	}
	// FateZero's own flags are parsed here; every other flag goes to `remotion render` untouched.
	const {own, passThrough, positionals} = splitCliArgs(args, {...PRERENDER_OPTIONS, 'out-dir': {type: 'string'}, 'fail-fast': {type: 'boolean'}}, {
		booleanFlags: remotionBooleanFlags(process.cwd()),
		shared: ['props', 'browser-executable', 'public-dir'],
	});
	const {values} = withArgErrors('render', () => parseArgs({args: own, strict: true, allowPositionals: false, options: {...PRERENDER_OPTIONS, 'out-dir': {type: 'string'}, 'fail-fast': {type: 'boolean'}}}));
	if (values['out-dir'] !== undefined || values['fail-fast']) {
		throw new FateZeroError('INVALID_OPTION', `--out-dir and --fail-fast belong to --variants batches. For one output pass <out>, for a batch add --variants FILE. Run "fatezero render --help".`);
	}
	if (positionals.length !== 3) throw new FateZeroError('INVALID_OPTION', `fatezero render takes <entry> <composition> <out>; got ${positionals.length} arguments (${positionals.join(' ') || 'none'}). Run "fatezero render --help".`);
	const settings = settingsFromFlags(values);
	const project = await loadRemotionProject(settings, process.cwd());
	printSettings(settings, project);
	const started = performance.now();
	const display = createProgressDisplay({json: values['json-progress'] === true});
	const distributed = coordinatorFromFlags(values, {cacheDir: settings.cacheDir.value, projectRoot: settings.projectRoot, model: settings.model, executionProvider: settings.executionProvider.value, computeType: settings.computeType.value, publicDir: project.publicDir.value, onProgress: display.update});
	const prepared = await prerender({
		entryPoint: positionals[0],
		compositionId: positionals[1],
		inputProps: parsePropsOption(values.props),
		settings,
		project,
		browserExecutable: values['browser-executable'],
		onProgress: display.update,
		queue: distributed ?? undefined,
	}).finally(() => distributed?.close());
	console.log(clipSummary(prepared.clips));
	const extra: string[] = [];
	// FateZero's own public dir setting must reach Remotion too (remotion.config.ts's is read by Remotion itself)
	if (project.publicDir.source !== 'remotion.config' && project.publicDir.source !== 'default' && values['public-dir'] === undefined) extra.push('--public-dir', project.publicDir.value);
	if (values['browser-executable'] === undefined && project.browserExecutable === null) {
		const browser = resolveBrowserExecutable(null);
		if (browser) extra.push('--browser-executable', browser);
	}
	const output = path.resolve(positionals[2]);
	// gc must not remove what this render shows while it runs
	const usage = await markEntriesInUse(prepared.cacheDir, prepared.clips.flatMap((c) => [{kind: 'clips' as const, key: c.key}, {kind: 'sources' as const, key: c.sourceKey}]));
	let code: number;
	try {
		code = await runRemotionRender(remotionCliScript(project.remotionRoot), project.remotionRoot, [...positionals, ...passThrough, ...extra], project.envVariables);
	} finally {
		await usage.release();
	}
	if (code !== 0) {
		console.error(`✖ remotion render exited with code ${code}. The clips stay cached and published; fix the render problem and run again.`);
		return code;
	}
	console.log(`Rendered ${displayPath(output)} in ${seconds(performance.now() - started)}`);
	if (values.json) console.log(JSON.stringify({output, clips: clipsJson(prepared.clips)}));
	return 0;
};
