import {describeSettings, PROJECT_SETTINGS, resolveProjectSettings, type ProjectSettings, type Setting, type SettingFlags} from '../project/project-settings.js';
import type {RemotionProject} from '../node/remotion-project.js';

/** parseArgs options of the project settings every project command takes. */
export const SETTINGS_FLAG_OPTIONS = {
	model: {type: 'string'},
	'execution-provider': {type: 'string'},
	'compute-type': {type: 'string'},
	'cache-dir': {type: 'string'},
	'public-dir': {type: 'string'},
	'frame-base-url': {type: 'string'},
	threads: {type: 'string'},
	'project-root': {type: 'string'},
} as const;

export const SETTINGS_HELP = `Project settings (flag > environment variable > fatezero.config.json > default):
  --model DIR|generated:tiny  SD-1.x model folder (diffusers layout). ${PROJECT_SETTINGS.model.env}. No default: a
                              project without one gets an error. generated:tiny opts in to a random-weight
                              test model whose frames are noise.
  --execution-provider P      cpu | cuda | webgpu. ${PROJECT_SETTINGS.executionProvider.env}. Default cpu.
  --compute-type T            float32 | float16 (use float16 with CUDA). ${PROJECT_SETTINGS.computeType.env}. Default float32.
  --cache-dir DIR             The store: imports, inversions, clips, graphs. ${PROJECT_SETTINGS.cacheDir.env}. Default ./cache.
  --public-dir DIR            Remotion's public dir; clips are published into its fatezero/ folder.
                              ${PROJECT_SETTINGS.publicDir.env}. Default: Config.setPublicDir() of remotion.config.ts, else ./public.
  --frame-base-url URL        Deployed bundles read frames from this URL instead of the public dir.
                              ${PROJECT_SETTINGS.frameBaseUrl.env}.
  --threads N                 ORT intra-op threads. ${PROJECT_SETTINGS.threads.env}. Default: every core.
  --project-root DIR          The Remotion project (fatezero.config.json, remotion.config.ts). Default: the current folder.`;

type FlagValues = Partial<Record<keyof typeof SETTINGS_FLAG_OPTIONS, string | boolean | string[] | boolean[] | undefined>>;

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** The project settings from a command's parsed flags. */
export const settingsFromFlags = (values: FlagValues): ProjectSettings => {
	const flags: SettingFlags = {
		model: str(values.model),
		executionProvider: str(values['execution-provider']),
		computeType: str(values['compute-type']),
		cacheDir: str(values['cache-dir']),
		publicDir: str(values['public-dir']),
		frameBaseUrl: str(values['frame-base-url']),
		threads: str(values.threads),
	};
	for (const key of Object.keys(flags) as (keyof SettingFlags)[]) if (flags[key] === undefined) delete flags[key];
	return resolveProjectSettings({projectRoot: str(values['project-root']), flags});
};

/** What a command uses and where each value came from, one line each (stderr, so stdout stays parseable). */
export const printSettings = (settings: ProjectSettings, project?: RemotionProject): void => {
	const shown: Record<string, Setting<unknown>> = {
		model: settings.model,
		executionProvider: settings.executionProvider,
		computeType: settings.computeType,
		threads: settings.threads,
		cacheDir: settings.cacheDir,
		publicDir: project ? project.publicDir : settings.publicDir,
	};
	if (settings.frameBaseUrl.value !== null) shown.frameBaseUrl = settings.frameBaseUrl;
	const config = settings.configFile ? ` (${settings.configFile})` : '';
	process.stderr.write(`FateZero settings${config}:\n${describeSettings(shown).join('\n')}\n`);
};
