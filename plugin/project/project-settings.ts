import path from 'node:path';
import {FateZeroError} from '../errors/fatezero-error.js';
import type {ExecutionProviderName} from '../runtime/session-spec.js';
import {readProjectConfigFile, PROJECT_CONFIG_FILE} from './project-config-file.js';

export type ComputeType = 'float32' | 'float16';

/** Where a setting's value came from, in precedence order: flag > env > file > default. */
export type SettingSource = 'flag' | 'env' | 'file' | 'remotion.config' | 'default';

export type Setting<T> = {
	value: T;
	source: SettingSource;
	/** The flag, variable or file that set it ("--model", "FATEZERO_MODEL", "/p/fatezero.config.json"), or "default". */
	origin: string;
};

/** The model value that opts in to the generated tiny random-weight model (tests and the demo). */
export const GENERATED_TINY_MODEL = 'generated:tiny';

/** The project settings every command and Studio read (design §6), one home for their names and defaults. */
export const PROJECT_SETTINGS = {
	model: {flag: '--model', env: 'FATEZERO_MODEL', key: 'model'},
	executionProvider: {flag: '--execution-provider', env: 'FATEZERO_EXECUTION_PROVIDER', key: 'executionProvider'},
	computeType: {flag: '--compute-type', env: 'FATEZERO_COMPUTE_TYPE', key: 'computeType'},
	cacheDir: {flag: '--cache-dir', env: 'FATEZERO_CACHE_DIR', key: 'cacheDir'},
	publicDir: {flag: '--public-dir', env: 'FATEZERO_PUBLIC_DIR', key: 'publicDir'},
	frameBaseUrl: {flag: '--frame-base-url', env: 'FATEZERO_FRAME_BASE_URL', key: 'frameBaseUrl'},
	threads: {flag: '--threads', env: 'FATEZERO_THREADS', key: 'threads'},
} as const;

export type SettingName = keyof typeof PROJECT_SETTINGS;

/** Flag values as the CLI parsed them (strings); absent flags are undefined. */
export type SettingFlags = Partial<Record<SettingName, string>>;

export type ProjectSettings = {
	projectRoot: string;
	/** The fatezero.config.json read, or null. */
	configFile: string | null;
	/** An absolute model folder, GENERATED_TINY_MODEL, or null when nothing configures one. */
	model: Setting<string | null>;
	executionProvider: Setting<ExecutionProviderName>;
	computeType: Setting<ComputeType>;
	/** The store (imports, inversions, clips, graphs, generated models). Default <projectRoot>/cache. */
	cacheDir: Setting<string>;
	/** Remotion's public dir, when FateZero's own settings name one; null: Remotion's (remotion.config.ts, else public/). */
	publicDir: Setting<string | null>;
	/** Where deployed bundles read frames instead of the public dir (no trailing slash); null: the public dir. */
	frameBaseUrl: Setting<string | null>;
	/** ORT intra-op threads; null: every core this process may use. */
	threads: Setting<number | null>;
};

const EXECUTION_PROVIDERS: readonly ExecutionProviderName[] = ['cpu', 'cuda', 'webgpu'];
const COMPUTE_TYPES: readonly ComputeType[] = ['float32', 'float16'];

type Raw = {value: string | number; source: SettingSource; origin: string; base: string};

const pick = (name: SettingName, flags: SettingFlags, env: NodeJS.ProcessEnv, file: {file: string; values: Record<string, unknown>} | null, cwd: string, projectRoot: string): Raw | null => {
	const spec = PROJECT_SETTINGS[name];
	const flag = flags[name];
	if (flag !== undefined) return {value: flag, source: 'flag', origin: spec.flag, base: cwd};
	const fromEnv = env[spec.env];
	if (fromEnv !== undefined && fromEnv !== '') return {value: fromEnv, source: 'env', origin: spec.env, base: cwd};
	const fromFile = file?.values[spec.key];
	if (fromFile !== undefined) return {value: fromFile as string | number, source: 'file', origin: file!.file, base: projectRoot};
	return null;
};

const oneOf = <T extends string>(raw: Raw, allowed: readonly T[], name: string): T => {
	if ((allowed as readonly string[]).includes(String(raw.value))) return raw.value as T;
	throw new FateZeroError('INVALID_OPTION', `${raw.origin} (${name}) is ${JSON.stringify(raw.value)}; use one of ${allowed.join(', ')}.`);
};

const urlSetting = (raw: Raw): string => {
	const text = String(raw.value).trim();
	let url: URL;
	try {
		url = new URL(text);
	} catch {
		throw new FateZeroError('INVALID_OPTION', `${raw.origin} (frameBaseUrl) is ${JSON.stringify(raw.value)}, which is not an absolute URL. Use e.g. https://cdn.example.com/fatezero (the folder that holds index/ and clips/).`);
	}
	if (url.protocol !== 'http:' && url.protocol !== 'https:') {
		throw new FateZeroError('INVALID_OPTION', `${raw.origin} (frameBaseUrl) is ${JSON.stringify(raw.value)}; only http: and https: URLs can be read by a render. Use e.g. https://cdn.example.com/fatezero.`);
	}
	return text.replace(/\/+$/, '');
};

const describeWhere = (raw: Raw | null): Pick<Setting<unknown>, 'source' | 'origin'> => (raw ? {source: raw.source, origin: raw.origin} : {source: 'default', origin: 'default'});

/**
 * The settings of the project at `projectRoot` (default: the working directory): each value from
 * its flag, else its environment variable, else fatezero.config.json, else the default, with
 * where it came from. Relative paths from flags and variables resolve against the working
 * directory, those from the file against the file's folder. Invalid values throw here, before
 * any work.
 */
export const resolveProjectSettings = (options: {projectRoot?: string; flags?: SettingFlags; env?: NodeJS.ProcessEnv; cwd?: string} = {}): ProjectSettings => {
	const cwd = options.cwd ?? process.cwd();
	const projectRoot = path.resolve(cwd, options.projectRoot ?? '.');
	const env = options.env ?? process.env;
	const flags = options.flags ?? {};
	const file = readProjectConfigFile(projectRoot);
	const get = (name: SettingName) => pick(name, flags, env, file as never, cwd, projectRoot);

	const modelRaw = get('model');
	const model: string | null = modelRaw === null ? null : String(modelRaw.value) === GENERATED_TINY_MODEL ? GENERATED_TINY_MODEL : path.resolve(modelRaw.base, String(modelRaw.value));

	const providerRaw = get('executionProvider');
	const computeRaw = get('computeType');
	const cacheRaw = get('cacheDir');
	const publicRaw = get('publicDir');
	const baseUrlRaw = get('frameBaseUrl');
	const threadsRaw = get('threads');
	let threads: number | null = null;
	if (threadsRaw) {
		threads = Number(threadsRaw.value);
		if (!Number.isInteger(threads) || threads < 1) {
			throw new FateZeroError('INVALID_OPTION', `${threadsRaw.origin} (threads) is ${JSON.stringify(threadsRaw.value)}; use a whole number ≥ 1, or leave it unset to use every core.`);
		}
	}
	return {
		projectRoot,
		configFile: file?.file ?? null,
		model: {value: model, ...describeWhere(modelRaw)},
		executionProvider: {value: providerRaw ? oneOf(providerRaw, EXECUTION_PROVIDERS, 'executionProvider') : 'cpu', ...describeWhere(providerRaw)},
		computeType: {value: computeRaw ? oneOf(computeRaw, COMPUTE_TYPES, 'computeType') : 'float32', ...describeWhere(computeRaw)},
		cacheDir: {value: cacheRaw ? path.resolve(cacheRaw.base, String(cacheRaw.value)) : path.join(projectRoot, 'cache'), ...describeWhere(cacheRaw)},
		publicDir: {value: publicRaw ? path.resolve(publicRaw.base, String(publicRaw.value)) : null, ...describeWhere(publicRaw)},
		frameBaseUrl: {value: baseUrlRaw ? urlSetting(baseUrlRaw) : null, ...describeWhere(baseUrlRaw)},
		threads: {value: threads, ...describeWhere(threadsRaw)},
	};
};

const sourceText = (setting: Setting<unknown>): string => {
	if (setting.source === 'default') return 'default';
	if (setting.source === 'file') return `from ${path.basename(setting.origin) === PROJECT_CONFIG_FILE ? PROJECT_CONFIG_FILE : setting.origin}`;
	return `from ${setting.origin}`;
};

/** "model  /m/sd15 (from --model)" lines: what a command uses and where each value came from. */
export const describeSettings = (settings: Record<string, Setting<unknown>>): string[] => {
	const names = Object.keys(settings);
	const width = Math.max(...names.map((n) => n.length));
	return names.map((name) => {
		const setting = settings[name];
		const value = setting.value === null ? '(none)' : String(setting.value);
		return `  ${name.padEnd(width)}  ${value}  (${sourceText(setting)})`;
	});
};
