import {parseArgs} from 'node:util';
import {FateZeroError} from '../errors/fatezero-error.js';
import {prerender} from '../node/prerender.js';
import {coordinatorFromFlags, DISTRIBUTED_FLAG_OPTIONS, DISTRIBUTED_HELP} from '../queue/distributed-flags.js';
import {loadRemotionProject} from '../node/remotion-project.js';
import {clipsJson, clipSummary} from './clip-summary.js';
import {withArgErrors} from './parse-cli-args.js';
import {parsePropsOption} from './parse-props.js';
import {createProgressDisplay} from './progress-display.js';
import {printSettings, SETTINGS_FLAG_OPTIONS, SETTINGS_HELP, settingsFromFlags} from './settings-flags.js';

export const PRERENDER_HELP = `fatezero prerender <entry> <composition> [--props JSON|FILE] [--browser-executable PATH] [--json] [--json-progress] [--queue URL --store URL] [settings]

Discovers the FateZero clips the composition needs (without rendering frames), computes the
missing ones into the store and publishes each into <public dir>/fatezero/, so a plain
\`npx remotion render\` or \`npx remotion studio\` shows them beside your own assets. Bundles
with your remotion.config.ts (public dir, webpack override), as \`npx remotion\` would.

  --json-progress      Progress as NDJSON events on stderr ({"job", "type": "progress", "version": 1, …})
                       instead of bars; without a terminal, percentage lines.

${DISTRIBUTED_HELP}

${SETTINGS_HELP}`;

export const PRERENDER_OPTIONS = {
	...SETTINGS_FLAG_OPTIONS,
	...DISTRIBUTED_FLAG_OPTIONS,
	props: {type: 'string'},
	'browser-executable': {type: 'string'},
	json: {type: 'boolean'},
	'json-progress': {type: 'boolean'},
} as const;

export const prerenderCommand = async (args: string[]): Promise<number> => {
	const {values, positionals} = withArgErrors('prerender', () => parseArgs({args, strict: true, allowPositionals: true, options: PRERENDER_OPTIONS}));
	if (positionals.length !== 2) throw new FateZeroError('INVALID_OPTION', `fatezero prerender takes <entry> <composition>; got ${positionals.length} arguments. Run "fatezero prerender --help".`);
	const settings = settingsFromFlags(values);
	const inputProps = parsePropsOption(values.props);
	const project = await loadRemotionProject(settings, process.cwd());
	printSettings(settings, project);
	const display = createProgressDisplay({json: values['json-progress'] === true});
	const distributed = coordinatorFromFlags(values, {cacheDir: settings.cacheDir.value, projectRoot: settings.projectRoot, model: settings.model, executionProvider: settings.executionProvider.value, computeType: settings.computeType.value, publicDir: project.publicDir.value, onProgress: display.update});
	const result = await prerender({entryPoint: positionals[0], compositionId: positionals[1], inputProps, settings, project, browserExecutable: values['browser-executable'], onProgress: display.update, queue: distributed ?? undefined}).finally(() => distributed?.close());
	if (distributed?.frameBaseUrl) console.error(`Frames are also at ${distributed.frameBaseUrl} (--frame-base-url for renders that read them by URL, e.g. on Lambda).`);
	console.log(clipSummary(result.clips));
	console.log(`Published ${result.clips.length} clip${result.clips.length === 1 ? '' : 's'} into ${result.publicDir}/fatezero/; \`npx remotion render\` and \`npx remotion studio\` show them now.`);
	if (values.json) console.log(JSON.stringify({publicDir: result.publicDir, clips: clipsJson(result.clips)}));
	return 0;
};
