import {readFileSync, statSync} from 'node:fs';
import path from 'node:path';
import {FateZeroError} from '../../errors/fatezero-error.js';
import {parseOfficialConfig, type OfficialConfig, type ParseOfficialConfigOptions} from './parse-official-config.js';

/**
 * Reads an official FateZero config file (.yaml/.yml, or the same structure as .json) and
 * parses it with parseOfficialConfig. Every error names the file; a missing file, a folder or an
 * unreadable file is a FateZeroError 'INVALID_OPTION' (the --config option is wrong).
 */
export const loadOfficialConfig = (file: string, options: Omit<ParseOfficialConfigOptions, 'file'> = {}): OfficialConfig => {
	const resolved = path.resolve(file);
	const stats = statSync(resolved, {throwIfNoEntry: false});
	if (!stats) {
		throw new FateZeroError('INVALID_OPTION', `Config file ${resolved} does not exist. Pass the path of an official FateZero config (YAML or JSON), e.g. config/teaser/jeep_watercolor.yaml; relative paths resolve against ${process.cwd()}.`);
	}
	if (!stats.isFile()) throw new FateZeroError('INVALID_OPTION', `Config ${resolved} is not a file. Pass the path of an official FateZero config (YAML or JSON).`);
	let text: string;
	try {
		text = readFileSync(resolved, 'utf8');
	} catch (error) {
		throw new FateZeroError('INVALID_OPTION', `Config file ${resolved} cannot be read (${(error as Error).message}). Check its permissions.`, {cause: error});
	}
	try {
		return parseOfficialConfig(text, {...options, file: resolved});
	} catch (error) {
		// Key-path errors come from the parser without the file; syntax errors already name it.
		if (error instanceof FateZeroError && !error.message.startsWith(resolved)) {
			throw new FateZeroError(error.code, `${resolved}: ${error.message}`, {cause: error});
		}
		throw error;
	}
};
