import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {checkArchitecture, importSpecifiers} from './check-architecture.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'fatezero-architecture-'));
afterAll(() => rmSync(root, {recursive: true, force: true}));
const write = (file: string, text: string) => {
	mkdirSync(path.dirname(path.join(root, file)), {recursive: true});
	writeFileSync(path.join(root, file), text);
};

describe('the architecture check', () => {
	it('passes on plugin/', () => {
		expect(checkArchitecture(path.resolve('plugin'))).toEqual([]);
	});

	it('reads imports, re-exports and dynamic imports, and tells type-only ones apart', () => {
		const source = `import {a} from './a.js';\nimport type {B} from '../b.js';\nexport {c} from "./c.js";\n// import {d} from './d.js';\nconst e = await import('./e.js');\nimport './f.js';`;
		expect(importSpecifiers(source).sort()).toEqual(['../b.js', './a.js', './c.js', './e.js', './f.js']);
		expect(importSpecifiers(source, {runtimeOnly: true}).sort()).toEqual(['./a.js', './c.js', './e.js', './f.js']);
	});

	it('reports a forbidden part, Node in browser code (also through a Node module) and a cycle', () => {
		write('clip/key.ts', `import {x} from '../jobs/job.js';\nexport const key = x;`);
		write('clip/hash.ts', `import {createHash} from 'node:crypto';\nexport const hash = createHash;`);
		write('remotion/hook.ts', `import {session} from '../runtime/session.js';\nexport const hook = session;`);
		write('runtime/session.ts', `import {InferenceSession} from 'onnxruntime-node';\nexport const session = InferenceSession;`);
		write('jobs/job.ts', `import {key} from '../clip/key.js';\nexport const x = key;`);
		const problems = checkArchitecture(root).map((v) => `${path.basename(v.file)} ${v.specifier}: ${v.problem}`);
		expect(problems).toEqual(
			expect.arrayContaining([
				expect.stringMatching(/^key\.ts \.\.\/jobs\/job\.js: clip .* may not import jobs/),
				expect.stringMatching(/^hash\.ts node:crypto: browser code may import only the packages/),
				expect.stringMatching(/^hook\.ts \.\.\/runtime\/session\.js: browser code may import only browser parts/),
				expect.stringMatching(/cycle: clip → jobs → clip/),
			]),
		);
	});
});
