import {readFileSync} from 'node:fs';
import path from 'node:path';
import {parseArgs} from 'node:util';
import {parseJsonWithLimits} from '../clip/clip-limits.js';
import {FateZeroError} from '../errors/fatezero-error.js';
import {loadRemotionProject} from '../node/remotion-project.js';
import {JobQueue} from '../jobs/job-queue.js';
import type {JobProgress} from '../jobs/job-progress.js';
import {previewFiles} from '../jobs/preview-files.js';
import {coordinatorFromFlags, DISTRIBUTED_FLAG_OPTIONS, DISTRIBUTED_HELP} from '../queue/distributed-flags.js';
import {withArgErrors} from './parse-cli-args.js';
import {createProgressDisplay, formatTable} from './progress-display.js';
import {printSettings, SETTINGS_FLAG_OPTIONS, SETTINGS_HELP, settingsFromFlags} from './settings-flags.js';

export const RUN_HELP = `fatezero run <clip.json> [--json-progress] [--memory-budget-mb N] [--queue redis://HOST:PORT --store DIR|s3://…] [settings]

Runs one clip descriptor (the same JSON as a <FateZeroClip> clip prop) through import, inversion,
editing and publication, reusing every cached stage. In a Remotion project the clip is also
published into <public dir>/fatezero/. The last line printed is a JSON object
{"key": …, "status": "hit" | "computed" | "joined", "path": …}: "joined" means another process
computed the clip while this one waited. Relative source paths resolve against the clip file's
folder, or --project-root when given.

Options:
  --json-progress      Print progress as NDJSON events on stderr instead of bars: {"job", "type": "progress",
                       "version": 1, stage, step, total, etaSeconds, totalEtaSeconds, warnings?}.
  --memory-budget-mb N Working memory allowed beyond the weights (chooses the chunk size).
  --preview-dir DIR    Write live previews there while the clip is computed (the x0 prediction of frame 0,
                       decoded during inversion and editing within 4 % of the engine time): <stage>-<step>.png
                       and latest.png.

${DISTRIBUTED_HELP}

${SETTINGS_HELP}`;

export const runCommand = async (args: string[]): Promise<number> => {
	const {values, positionals} = withArgErrors('run', () =>
		parseArgs({
			args,
			strict: true,
			allowPositionals: true,
			options: {
				...SETTINGS_FLAG_OPTIONS,
				...DISTRIBUTED_FLAG_OPTIONS,
				'json-progress': {type: 'boolean'},
				'memory-budget-mb': {type: 'string'},
				'preview-dir': {type: 'string'},
			},
		}),
	);
	if (positionals.length !== 1) {
		throw new FateZeroError('INVALID_OPTION', `fatezero run takes one clip descriptor file; got ${positionals.length}. Run "fatezero run --help".`);
	}
	const file = path.resolve(positionals[0]);
	let text: string;
	try {
		text = readFileSync(file, 'utf8');
	} catch (error) {
		const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(error as NodeJS.ErrnoException).code})`;
		throw new FateZeroError('INVALID_INPUT', `Clip descriptor ${file} ${reason}. Pass a JSON file with at least {"source", "sourcePrompt", "prompt"}.`);
	}
	let descriptor: unknown;
	try {
		// size and nesting limits before JSON.parse (a deeply nested file would overflow its stack)
		descriptor = parseJsonWithLimits(text, `Clip descriptor ${file}`);
	} catch (error) {
		throw new FateZeroError('INVALID_INPUT', `${(error as Error).message} Pass a JSON file with at least {"source", "sourcePrompt", "prompt"}.`);
	}
	const budget = values['memory-budget-mb'] === undefined ? undefined : Number(values['memory-budget-mb']);
	if (budget !== undefined && !(budget > 0)) throw new FateZeroError('INVALID_OPTION', `--memory-budget-mb must be a positive number of megabytes; got "${values['memory-budget-mb']}".`);
	const settings = settingsFromFlags(values);
	// Outside a Remotion project (no @remotion/cli) the clip stays in the store only.
	const project = await loadRemotionProject(settings, process.cwd()).catch(() => null);
	printSettings(settings, project ?? undefined);
	const display = createProgressDisplay({json: values['json-progress'] === true});
	const started = performance.now();
	const queueOptions = {
		cacheDir: settings.cacheDir.value,
		// a clip file's relative sources resolve against its own folder unless --project-root says otherwise
		projectRoot: values['project-root'] ? settings.projectRoot : path.dirname(file),
		model: settings.model,
		executionProvider: settings.executionProvider.value,
		computeType: settings.computeType.value,
		threads: settings.threads.value,
		publicDir: project?.publicDir.value ?? null,
		memoryBudgetInMegabytes: budget,
		onPreview: values['preview-dir'] ? previewFiles(path.resolve(values['preview-dir'])) : undefined,
		onProgress: (event: JobProgress) => display.update(event),
	};
	const queue = coordinatorFromFlags(values, queueOptions) ?? new JobQueue(queueOptions);
	const abort = new AbortController();
	const onSignal = () => abort.abort(new FateZeroError('ABORTED', 'Cancelled (SIGINT): nothing half-written was published; run the command again to resume from the cached stages.'));
	process.once('SIGINT', onSignal);
	try {
		const result = await queue.add(descriptor, {signal: abort.signal});
		const seconds = ((performance.now() - started) / 1000).toFixed(1);
		console.log(
			formatTable(
				['clip', 'key', 'source', 'inversion', 'edit', 'time'],
				[[result.descriptor.label ?? path.basename(file), result.key.slice(0, 12), result.statuses.source, result.statuses.inversion, result.statuses.clip, `${seconds}s`]],
			),
		);
		if (result.generatedModel) console.error('⚠ Edited with the generated random-weight model (generated:tiny): the frames are noise.');
		console.log(JSON.stringify({key: result.key, status: result.status, path: result.path, publicPath: result.publicPath, generatedModel: result.generatedModel}));
		return 0;
	} finally {
		process.off('SIGINT', onSignal);
		await queue.close();
	}
};
