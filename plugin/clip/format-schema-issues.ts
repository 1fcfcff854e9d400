import type {z} from 'zod';

type Issue = z.ZodError['issues'][number];
type PathKey = PropertyKey;

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `edit.reweight.watercolor`, `attention[1]`, `edit.reweight["oil painting"]`. */
export const formatFieldPath = (path: readonly PathKey[]): string =>
	path
		.map((key, i) => {
			if (typeof key === 'number') return `[${key}]`;
			const name = String(key);
			if (IDENTIFIER.test(name)) return i === 0 ? name : `.${name}`;
			return `[${JSON.stringify(name)}]`;
		})
		.join('');

const valueAt = (root: unknown, path: readonly PathKey[]): unknown => {
	let value = root;
	for (const key of path) {
		if (value === null || typeof value !== 'object') return undefined;
		value = (value as Record<PropertyKey, unknown>)[key as string];
	}
	return value;
};

const MAX_VALUE_CHARS = 80;

/** The offending value as the user wrote it, shortened; "nothing" for a missing field. */
export const showValue = (value: unknown): string => {
	if (value === undefined) return 'nothing';
	let text: string;
	try {
		text = typeof value === 'number' && !Number.isFinite(value) ? String(value) : (JSON.stringify(value) ?? String(value));
	} catch {
		text = String(value);
	}
	return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
};

/**
 * One line per schema issue: the field path, what it expects and the value it got. The schema's
 * own messages state the expectation ("a number in [0, ∞)"); refinements and unknown fields carry
 * full sentences and are shown as they are.
 */
export const formatSchemaIssues = (issues: readonly Issue[], input: unknown): string[] =>
	issues.map((issue) => {
		const where = issue.path.length > 0 ? `${formatFieldPath(issue.path)}: ` : '';
		// Sentences end where the caller joins them, so drop their own final period.
		if (issue.code === 'custom' || issue.code === 'unrecognized_keys') return `${where}${issue.message.replace(/\.$/, '')}`;
		return `${where}expected ${issue.message}, got ${showValue(valueAt(input, issue.path))}`;
	});
