import {formatKeyPath, type KeySegment} from './config-key-path.js';

/**
 * An OmegaConf interpolation that could not be resolved. It stays in the tree in place of the
 * string, so that reading the key fails with the reason while a key that has no effect (the
 * official `test_pipeline_config.num_inference_steps: "${..validation_sample_logger…}"` points at
 * a key that does not exist) only earns a note.
 */
export class UnresolvedInterpolation {
	constructor(
		readonly expression: string,
		readonly reason: string,
		readonly path: readonly KeySegment[],
	) {}
}

export type ResolvedConfigTree = {
	/** The config with every interpolation replaced by its value or an UnresolvedInterpolation. */
	tree: unknown;
	/** Every interpolation that did not resolve, in document order. */
	unresolved: UnresolvedInterpolation[];
	/** Every interpolation that did resolve: where, what it said and what it gave. */
	resolved: {path: readonly KeySegment[]; expression: string; value: unknown}[];
};

class InterpolationFailure extends Error {}

type Piece = {literal: string} | {expression: string};

const isContainer = (value: unknown): value is Record<string, unknown> | unknown[] => typeof value === 'object' && value !== null;

/** Splits a string into literal text and `${…}` expressions; `\${` is a literal `${` (OmegaConf's escape). */
const splitPieces = (text: string): Piece[] | null => {
	const pieces: Piece[] = [];
	let literal = '';
	let found = false;
	let i = 0;
	while (i < text.length) {
		if (text.startsWith('\\${', i)) {
			literal += '${';
			i += 3;
			continue;
		}
		if (!text.startsWith('${', i)) {
			literal += text[i++];
			continue;
		}
		// find the matching brace, allowing nested ${…} (reported as unsupported later)
		let depth = 0;
		let end = -1;
		for (let j = i; j < text.length; j++) {
			if (text.startsWith('${', j)) {
				depth++;
				j++;
			} else if (text[j] === '}') {
				depth--;
				if (depth === 0) {
					end = j;
					break;
				}
			}
		}
		if (end < 0) throw new InterpolationFailure(`"${text}" opens "\${" at character ${i + 1} but never closes it with "}"`);
		if (literal !== '') pieces.push({literal});
		literal = '';
		pieces.push({expression: text.slice(i + 2, end).trim()});
		found = true;
		i = end + 1;
	}
	if (!found) return null;
	if (literal !== '') pieces.push({literal});
	return pieces;
};

/** "a.b[0].c" or "a.b.0.c" → ['a', 'b', '0', 'c'] (list indices are matched when walking). */
const parseKeys = (text: string): string[] => {
	if (text === '') return [];
	const keys: string[] = [];
	for (const part of text.split('.')) {
		const match = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
		if (!match || (match[1] === '' && match[2] === '')) throw new InterpolationFailure(`"${text}" is not a key path (expected keys separated by dots, such as dataset_config.n_sample_frame)`);
		if (match[1] !== '') keys.push(match[1]);
		for (const index of match[2].matchAll(/\[(\d+)\]/g)) keys.push(index[1]);
	}
	return keys;
};

/** Python's str() of a value inserted into a string interpolation. */
const pythonString = (value: unknown, expression: string): string => {
	if (value === null || value === undefined) return 'None';
	if (typeof value === 'boolean') return value ? 'True' : 'False';
	if (typeof value === 'number' || typeof value === 'string') return String(value);
	throw new InterpolationFailure(`\${${expression}} is a ${Array.isArray(value) ? 'list' : 'mapping'}, which cannot be inserted into a string`);
};

/**
 * Resolves OmegaConf interpolations the way `OmegaConf.load(...)` + attribute access does:
 * `${a.b}` from the top of the config, `${.b}` from the mapping that holds the key, and each
 * extra leading dot one level further up (`${..dataset_config.n_sample_frame}` inside
 * `editing_config` is the top-level `dataset_config.n_sample_frame`). A string that is exactly
 * one interpolation takes the referenced value with its type; interpolations inside longer
 * strings are inserted as text. Resolvers: `${oc.env:NAME}` / `${oc.env:NAME,default}` (and the
 * older `${env:NAME}`); others stay unresolved.
 */
export const resolveInterpolations = (root: unknown, env: Record<string, string | undefined> = typeof process === 'undefined' ? {} : process.env): ResolvedConfigTree => {
	const unresolved: UnresolvedInterpolation[] = [];
	const resolved: ResolvedConfigTree['resolved'] = [];
	const done = new Map<string, unknown>();
	const resolving = new Set<string>();

	const lookup = (keys: readonly string[]): {value: unknown; path: KeySegment[]} => {
		let node: unknown = root;
		const path: KeySegment[] = [];
		for (const key of keys) {
			if (Array.isArray(node)) {
				const index = /^\d+$/.test(key) ? Number(key) : Number.NaN;
				if (!(index < node.length)) throw new InterpolationFailure(`${formatKeyPath(path)} is a list of ${node.length} item(s) and has no item ${JSON.stringify(key)}`);
				node = node[index];
				path.push(index);
			} else if (isContainer(node)) {
				if (!Object.hasOwn(node, key)) {
					const where = path.length === 0 ? 'the config has no top-level key' : `${formatKeyPath(path)} has no key`;
					throw new InterpolationFailure(`${where} ${JSON.stringify(key)}`);
				}
				node = (node as Record<string, unknown>)[key];
				path.push(key);
			} else {
				throw new InterpolationFailure(`${formatKeyPath(path)} is ${JSON.stringify(node)}, not a mapping or list`);
			}
		}
		return {value: node, path};
	};

	const evaluate = (expression: string, holder: readonly KeySegment[]): unknown => {
		const resolver = /^([A-Za-z_][\w.]*):(.*)$/s.exec(expression);
		if (resolver) {
			const [, name, args] = resolver;
			if (name === 'oc.env' || name === 'env') {
				const comma = args.indexOf(',');
				const variable = (comma < 0 ? args : args.slice(0, comma)).trim();
				const value = env[variable];
				if (value !== undefined) return value;
				if (comma >= 0) return args.slice(comma + 1).trim().replace(/^(['"])(.*)\1$/, '$2');
				throw new InterpolationFailure(`the environment variable ${variable} is not set`);
			}
			throw new InterpolationFailure(`the OmegaConf resolver "${name}" is not supported here (only oc.env is)`);
		}
		if (expression.includes('${')) throw new InterpolationFailure(`nested interpolations are not supported`);
		const dots = /^\.*/.exec(expression)![0].length;
		const keys = parseKeys(expression.slice(dots));
		let base: KeySegment[] = [];
		if (dots > 0) {
			// holder is the key that holds the string; one dot is the mapping it sits in.
			const up = holder.length - dots;
			if (up < 0) throw new InterpolationFailure(`${dots} leading dots climb above the top of the config from ${formatKeyPath(holder)}`);
			base = holder.slice(0, up) as KeySegment[];
		}
		const {value, path} = lookup([...base.map(String), ...keys]);
		return resolveNode(value, path);
	};

	const resolveString = (text: string, path: readonly KeySegment[]): unknown => {
		const pieces = splitPieces(text);
		if (pieces === null) return text.replaceAll('\\${', '${');
		const key = formatKeyPath(path);
		if (done.has(key)) return done.get(key);
		if (resolving.has(key)) throw new InterpolationFailure(`${key} refers back to itself through "${text}"`);
		resolving.add(key);
		try {
			const value =
				pieces.length === 1 && 'expression' in pieces[0]
					? evaluate(pieces[0].expression, path)
					: pieces.map((piece) => ('literal' in piece ? piece.literal : pythonString(evaluate(piece.expression, path), piece.expression))).join('');
			done.set(key, value);
			return value;
		} finally {
			resolving.delete(key);
		}
	};

	const resolveNode = (value: unknown, path: readonly KeySegment[]): unknown => {
		if (typeof value === 'string') return resolveString(value, path);
		if (Array.isArray(value)) return value.map((item, index) => resolveNode(item, [...path, index]));
		if (isContainer(value)) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolveNode(item, [...path, key])]));
		return value;
	};

	// The document pass: every string position gets its value or a marker; lookups above throw.
	const walk = (value: unknown, path: KeySegment[]): unknown => {
		if (typeof value === 'string') {
			const hasInterpolation = value.replaceAll('\\${', '').includes('${');
			try {
				const out = resolveString(value, path);
				if (hasInterpolation) resolved.push({path, expression: value, value: out});
				return out;
			} catch (error) {
				if (!(error instanceof InterpolationFailure)) throw error;
				const marker = new UnresolvedInterpolation(value, error.message, path);
				unresolved.push(marker);
				return marker;
			}
		}
		if (Array.isArray(value)) return value.map((item, index) => walk(item, [...path, index]));
		if (isContainer(value)) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, walk(item, [...path, key])]));
		return value;
	};

	return {tree: walk(root, []), unresolved, resolved};
};
