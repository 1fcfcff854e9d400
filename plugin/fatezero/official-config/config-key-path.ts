/** One step of a key path: a mapping key or a list index. */
export type KeySegment = string | number;

/**
 * A key path as the user reads it in the YAML: `editing_config.p2p_config[1].blend_th[0]`.
 * Numbers (list indices, and p2p_config's numeric keys) are shown in brackets.
 */
export const formatKeyPath = (segments: readonly KeySegment[]): string =>
	segments.reduce<string>((text, segment) => {
		if (typeof segment === 'number') return `${text}[${segment}]`;
		return text === '' ? segment : `${text}.${segment}`;
	}, '') || '(top level)';

/** A config value written out for a message: strings quoted, NaN and infinities by name. */
export const describeConfigValue = (value: unknown): string => {
	if (value === undefined) return 'missing';
	if (typeof value === 'number') return String(value);
	try {
		return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)) ?? String(value);
	} catch {
		return String(value);
	}
};
