import {parseDocument} from 'yaml';
import {FateZeroError} from '../../errors/fatezero-error.js';

/**
 * Parses the text of an official config (YAML; JSON is valid YAML) into plain values. Syntax
 * errors name the line and column and show the offending lines. `label` names the source in
 * messages (the file path). Mapping keys come back as strings (`0:` → "0").
 */
export const parseConfigText = (text: string, label: string): unknown => {
	// merge: PyYAML's SafeLoader (OmegaConf's loader) supports `<<: *anchor` merge keys.
	const document = parseDocument(text, {merge: true, prettyErrors: true, uniqueKeys: true});
	const error = document.errors[0];
	if (error) {
		const position = error.linePos?.[0];
		const where = position ? ` at line ${position.line}, column ${position.col}` : '';
		// The parser's message repeats the position and appends the source excerpt; keep the excerpt.
		const [headline, ...excerpt] = error.message.split('\n');
		const reason = headline.replace(/ at line \d+, column \d+:?$/, '');
		const more = document.errors.length > 1 ? ` (${document.errors.length - 1} more error${document.errors.length > 2 ? 's' : ''} after it)` : '';
		throw new FateZeroError(
			'INVALID_OPTION',
			`${label}: YAML syntax error${where}: ${reason}${more}.${excerpt.length > 0 ? `\n${excerpt.join('\n').replace(/\n+$/, '')}` : ''}\nFix the YAML there (indent with spaces, close every [ and {, quote text that contains ": ").`,
		);
	}
	const value: unknown = document.toJS();
	if (value === null || value === undefined) {
		throw new FateZeroError('INVALID_OPTION', `${label} is empty. An official FateZero config has pretrained_model_path, dataset_config, editing_config and model_config.`);
	}
	if (typeof value !== 'object' || Array.isArray(value)) {
		throw new FateZeroError(
			'INVALID_OPTION',
			`${label} holds ${Array.isArray(value) ? 'a list' : `the single value ${JSON.stringify(value)}`}, not a mapping of keys. An official FateZero config has pretrained_model_path, dataset_config, editing_config and model_config at the top level.`,
		);
	}
	return value;
};
