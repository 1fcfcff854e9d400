import {execFileSync} from 'node:child_process';
import {mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {afterEach, describe, expect, it} from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dirs: string[] = [];
afterEach(() => {
	for (const dir of dirs.splice(0)) rmSync(dir, {recursive: true, force: true});
});

const graph = `import {GraphBuilder} from ${JSON.stringify(path.join(root, 'plugin/graph/onnx-graph-builder.ts'))};
const b = new GraphBuilder('double');
b.output('y', b.op('Mul', [b.input('x', 'float32', [1]), b.constFloat32([2], [])]), 'float32', [1]);
const x = {type: 'float32', dims: [1], data: new Float32Array([3])} as const;
`;

// Each way the plugin creates sessions, alone in a fresh process (the first session creates ORT's environment).
const SCRIPTS = {
	// a session on this thread (tests, tools)
	direct: `import {createOrtSession} from ${JSON.stringify(path.join(root, 'plugin/runtime/ort-session.ts'))};
${graph}
const session = await createOrtSession({label: 'double', graph: b.toBytes(), externalData: []}, {intraOpThreads: 1});
const out = await session.run({x});
await session.dispose();
console.log(JSON.stringify(Array.from(out.y.data as Float32Array)));
`,
	// the plugin's path: sessions inside the inference worker thread, whose process.env native code never reads
	worker: `import {createInferenceRuntime} from ${JSON.stringify(path.join(root, 'plugin/runtime/inference-runtime.ts'))};
${graph}
const runtime = await createInferenceRuntime({intraOpThreads: 1});
const out = await (await runtime.createSession({label: 'double', graph: b.toBytes(), externalData: []})).run({x});
await runtime.dispose();
console.log(JSON.stringify(Array.from(out.y.data as Float32Array)));
`,
};

describe('nothing outside the cache: ORT sessions (issue 16)', () => {
	it.each(Object.keys(SCRIPTS) as (keyof typeof SCRIPTS)[])('a process creating a session (%s) leaves no mat-debug-<pid>.log or .ses in the temp dir', (mode) => {
		const tmp = mkdtempSync(path.join(os.tmpdir(), 'fz-ort-tmp-'));
		const work = mkdtempSync(path.join(os.tmpdir(), 'fz-ort-work-'));
		dirs.push(tmp, work);
		const script = path.join(work, 'session.mts');
		writeFileSync(script, SCRIPTS[mode]);
		const env: NodeJS.ProcessEnv = {...process.env, TMPDIR: tmp, TMP: tmp, TEMP: tmp};
		delete env.ORT_DISABLE_TELEMETRY;
		const stdout = execFileSync(process.execPath, ['--import', 'tsx', script], {cwd: root, env, encoding: 'utf8'});
		expect(stdout.trim().split('\n').at(-1)).toBe('[6]');
		expect(readdirSync(tmp).filter((name) => name.startsWith('mat-debug-') || name === '.ses')).toEqual([]);
	});
});
