import {readdirSync, readFileSync, statSync} from 'node:fs';
import path from 'node:path';
import {BROWSER_PACKAGES, BROWSER_SAFE_MODULES, PARTS} from './architecture-rules.js';

// Checks every import under plugin/ against architecture-rules.ts: which part may import which,
// browser parts free of Node, and no cycle between parts. Run by `npm test` before vitest;
// exits 1 with one line per violation. Usage: tsx test/architecture/check-architecture.ts [plugin dir]

export type Violation = {file: string; specifier: string; problem: string};

const SOURCE = /\.(ts|tsx)$/;

const listFiles = (dir: string): string[] =>
	readdirSync(dir).flatMap((name) => {
		const full = path.join(dir, name);
		return statSync(full).isDirectory() ? listFiles(full) : SOURCE.test(name) && !name.endsWith('.d.ts') ? [full] : [];
	});

/**
 * Module specifiers of a file's static imports, re-exports and dynamic imports (comments removed).
 * With `runtimeOnly`, `import type` / `export type` are left out: the compiler erases them, so
 * they never reach a bundle (they still count for the parts' rules).
 */
export const importSpecifiers = (source: string, options: {runtimeOnly?: boolean} = {}): string[] => {
	const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
	const found = [
		...[...code.matchAll(/(?:^|[;\s])(?:import|export)\s([^'"`;]*?)\sfrom\s*['"]([^'"]+)['"]/g)].filter((match) => !(options.runtimeOnly && /^type\s/.test(match[1]))).map((match) => match[2]),
		...[...code.matchAll(/(?:^|[;\s])import\s*['"]([^'"]+)['"]/g)].map((match) => match[1]),
		...[...code.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g)].map((match) => match[1]),
	];
	return [...new Set(found)];
};

/** The part a file under the plugin root belongs to: its top folder, or the file name for the entry files. */
const partOf = (root: string, file: string): string => path.relative(root, file).split(path.sep)[0];

const packageName = (specifier: string): string => {
	const parts = specifier.split('/');
	return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
};

/** The source file a relative specifier names ('./x.js' → x.ts or x.tsx, './dir/index.js'). */
const resolveSource = (file: string, specifier: string): string => {
	const target = path.resolve(path.dirname(file), specifier);
	const base = target.replace(/\.js$/, '');
	for (const candidate of [`${base}.ts`, `${base}.tsx`, target]) if (statSync(candidate, {throwIfNoEntry: false})?.isFile()) return candidate;
	return target;
};

const isBrowserSafeModule = (root: string, file: string): boolean => {
	const relative = path.relative(root, file).split(path.sep).join('/');
	return BROWSER_SAFE_MODULES.some((entry) => (entry.endsWith('/') ? relative.startsWith(entry) : relative === entry));
};

/** Every violation under `root` (the plugin folder). */
export const checkArchitecture = (root: string): Violation[] => {
	const violations: Violation[] = [];
	const edges = new Map<string, Set<string>>();
	for (const [name, rule] of Object.entries(PARTS)) {
		for (const target of rule.mayImport) {
			if (!PARTS[target]) violations.push({file: 'architecture-rules.ts', specifier: target, problem: `${name} may import unknown part ${target}`});
		}
	}
	const files = listFiles(root);
	// Browser code: every file a browser part reaches, transitively, is browser code.
	const browserFiles = new Set(files.filter((file) => PARTS[partOf(root, file)]?.browser));
	const pending = [...browserFiles];
	while (pending.length > 0) {
		const file = pending.pop()!;
		for (const specifier of importSpecifiers(readFileSync(file, 'utf8'), {runtimeOnly: true})) {
			if (!specifier.startsWith('.')) continue;
			const target = resolveSource(file, specifier);
			if (path.relative(root, target).startsWith('..') || browserFiles.has(target)) continue;
			if (!PARTS[partOf(root, target)]?.browser && !isBrowserSafeModule(root, target)) {
				violations.push({file: path.relative(process.cwd(), file), specifier, problem: `browser code may import only browser parts and BROWSER_SAFE_MODULES, not ${path.relative(root, target)}`});
				continue;
			}
			browserFiles.add(target);
			pending.push(target);
		}
	}
	for (const file of files) {
		const from = partOf(root, file);
		const rule = PARTS[from];
		const shown = path.relative(process.cwd(), file);
		if (!rule) {
			violations.push({file: shown, specifier: '', problem: `${from} is not a part in test/architecture/architecture-rules.ts: add it with what it may import`});
			continue;
		}
		const runtime = new Set(importSpecifiers(readFileSync(file, 'utf8'), {runtimeOnly: true}));
		for (const specifier of importSpecifiers(readFileSync(file, 'utf8'))) {
			if (specifier.startsWith('.')) {
				const target = resolveSource(file, specifier);
				if (path.relative(root, target).startsWith('..')) continue; // package.json and the like
				const to = partOf(root, target);
				if (to === from) continue;
				if (!edges.has(from)) edges.set(from, new Set());
				edges.get(from)!.add(to);
				if (!rule.mayImport.includes(to)) {
					violations.push({file: shown, specifier, problem: `${from} (${rule.role}) may not import ${to}; it may import ${rule.mayImport.join(', ') || 'no other part'}`});
				}
			} else if (browserFiles.has(file) && runtime.has(specifier)) {
				const name = packageName(specifier);
				if (specifier.startsWith('node:') || !BROWSER_PACKAGES.includes(name)) {
					violations.push({file: shown, specifier, problem: `browser code may import only the packages ${BROWSER_PACKAGES.join(', ')} (no node: builtins, no native packages)`});
				}
			}
		}
	}
	// cycles between parts, from the imports actually written (depth-first search)
	const state = new Map<string, 'open' | 'done'>();
	const stack: string[] = [];
	const visit = (part: string) => {
		state.set(part, 'open');
		stack.push(part);
		for (const next of edges.get(part) ?? []) {
			if (state.get(next) === 'open') {
				const cycle = [...stack.slice(stack.indexOf(next)), next];
				violations.push({file: `plugin/${part}`, specifier: next, problem: `parts import each other in a cycle: ${cycle.join(' → ')}`});
			} else if (!state.has(next)) visit(next);
		}
		stack.pop();
		state.set(part, 'done');
	};
	for (const part of [...edges.keys()].sort()) if (!state.has(part)) visit(part);
	return violations;
};

const isMain = process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname);
if (isMain) {
	const root = path.resolve(process.argv[2] ?? 'plugin');
	const violations = checkArchitecture(root);
	for (const v of violations) console.error(`✖ ${v.file}${v.specifier ? ` → '${v.specifier}'` : ''}: ${v.problem}`);
	if (violations.length > 0) {
		console.error(`\nArchitecture check: ${violations.length} violation${violations.length === 1 ? '' : 's'} (rules: test/architecture/architecture-rules.ts).`);
		process.exit(1);
	}
	console.log(`Architecture check: ${listFiles(root).length} files under ${path.relative(process.cwd(), root) || '.'} follow test/architecture/architecture-rules.ts.`);
}
