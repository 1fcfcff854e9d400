import {existsSync} from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';
import type {WebpackOverrideFn} from '@remotion/bundler';
import {FateZeroError} from '../errors/fatezero-error.js';
import {FRAME_BASE_URL_ENV} from '../clip/public-layout.js';
import type {ProjectSettings, Setting} from '../project/project-settings.js';

/** What `npx remotion render|studio` would use in this project, read from its remotion.config.ts. */
export type RemotionProject = {
	remotionRoot: string;
	/** The remotion.config.ts/js that was applied, or null. */
	configFile: string | null;
	/** Absolute; FateZero's own setting, else Config.setPublicDir(), else <root>/public. */
	publicDir: Setting<string>;
	webpackOverride: WebpackOverrideFn;
	rspack: boolean;
	enableCaching: boolean;
	/** From Config.setBrowserExecutable(), or null. */
	browserExecutable: string | null;
	/** From Config.setEntryPoint(), or null. */
	entryPoint: string | null;
	/** REMOTION_* variables for the page (frame base URL included), as Remotion's CLI passes them. */
	envVariables: Record<string, string>;
};

type CliModules = {
	CliInternals: {loadConfig: (root: string) => Promise<string | null>};
	ConfigInternals: {
		resetConfigOptions: () => void;
		getWebpackOverrideFn: () => WebpackOverrideFn;
		getWebpackCaching: () => boolean;
		getEntryPoint: () => string | null;
	};
	options: Record<'publicDirOption' | 'browserExecutableOption' | 'rspackOption', {getValue: (input: {commandLine: Record<string, unknown>}) => {value: unknown}}>;
};

// The config file calls Config.* of the @remotion/cli that the *project* installed (CommonJS), so
// its settings are read back through that same module instance, not through an ESM copy.
const loadCliModules = (remotionRoot: string): CliModules => {
	const require = createRequire(path.join(remotionRoot, 'package.json'));
	try {
		const {CliInternals} = require('@remotion/cli');
		const {ConfigInternals} = require('@remotion/cli/config');
		const {BrowserSafeApis} = require('@remotion/renderer/client');
		return {CliInternals, ConfigInternals, options: BrowserSafeApis.options};
	} catch (error) {
		const message = (error as Error).message.split('\n')[0];
		if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') {
			throw new FateZeroError(
				'INVALID_INPUT',
				`@remotion/cli is not installed in ${remotionRoot} (${message}). Run the command from your Remotion project's folder, or install it there: npm i @remotion/cli remotion @remotion/renderer @remotion/bundler (the same version).`,
				{cause: error},
			);
		}
		throw new FateZeroError('INVALID_INPUT', `Remotion could not be loaded in ${remotionRoot}: ${message}. Check that remotion and every @remotion/* package have the same version (npx remotion versions).`, {cause: error});
	}
};;

/**
 * Loads the project's remotion.config.ts exactly as `npx remotion` does (Remotion's own loader),
 * from `remotionRoot` (default: the settings' project root; the CLI passes its working directory),
 * so `fatezero` commands bundle with the same public dir and webpack override and need nothing of
 * their own in it. A public dir set in FateZero's settings (flag, env, fatezero.config.json) wins.
 */
export const loadRemotionProject = async (settings: Pick<ProjectSettings, 'projectRoot' | 'publicDir' | 'frameBaseUrl'>, remotionRoot = settings.projectRoot): Promise<RemotionProject> => {
	const cli = loadCliModules(remotionRoot);
	cli.ConfigInternals.resetConfigOptions();
	const configFile = await cli.CliInternals.loadConfig(remotionRoot);
	const fromConfig = cli.options.publicDirOption.getValue({commandLine: {}}).value as string | null;
	const publicDir: Setting<string> =
		settings.publicDir.value !== null
			? {value: settings.publicDir.value, source: settings.publicDir.source, origin: settings.publicDir.origin}
			: fromConfig
				? {value: path.resolve(remotionRoot, fromConfig), source: 'remotion.config', origin: configFile ?? 'remotion.config.ts'}
				: {value: path.join(remotionRoot, 'public'), source: 'default', origin: 'default'};
	const envVariables: Record<string, string> = {};
	for (const [name, value] of Object.entries(process.env)) if (name.startsWith('REMOTION_') && value !== undefined) envVariables[name] = value;
	if (settings.frameBaseUrl.value) envVariables[FRAME_BASE_URL_ENV] = settings.frameBaseUrl.value;
	const entryPoint = cli.ConfigInternals.getEntryPoint();
	return {
		remotionRoot,
		configFile,
		publicDir,
		webpackOverride: cli.ConfigInternals.getWebpackOverrideFn(),
		rspack: cli.options.rspackOption.getValue({commandLine: {}}).value === true,
		enableCaching: cli.ConfigInternals.getWebpackCaching(),
		browserExecutable: (cli.options.browserExecutableOption.getValue({commandLine: {}}).value as string | null) ?? null,
		entryPoint: entryPoint ? path.resolve(remotionRoot, entryPoint) : null,
		envVariables,
	};
};

/** The Remotion CLI script of the project (for `remotion render|studio` child processes). */
export const remotionCliScript = (remotionRoot: string): string => {
	const require = createRequire(path.join(remotionRoot, 'package.json'));
	try {
		const script = path.join(path.dirname(require.resolve('@remotion/cli/package.json')), 'remotion-cli.js');
		if (existsSync(script)) return script;
	} catch {
		// reported below
	}
	throw new FateZeroError('INVALID_INPUT', `The Remotion CLI (@remotion/cli) is not installed for ${remotionRoot}. Run the command from your Remotion project's folder, or install it there: npm i -D @remotion/cli (the same version as remotion).`);
};

/** Remotion CLI flags that take no value (minimist booleans), from the project's @remotion/cli. */
export const remotionBooleanFlags = (remotionRoot: string): ReadonlySet<string> => {
	const require = createRequire(path.join(remotionRoot, 'package.json'));
	try {
		return new Set<string>(require('@remotion/cli').CliInternals.BooleanFlags as string[]);
	} catch {
		return new Set();
	}
};
