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

// An Identity graph (x → y, float[1]) as ONNX bytes: enough to make ORT create its environment.
const IDENTITY_ONNX = [8, 7, 18, 0, 58, 55, 10, 17, 10, 1, 120, 18, 1, 121, 34, 8, 73, 100, 101, 110, 116, 105, 116, 121, 18, 1, 103, 90, 15, 10, 1, 120, 18, 10, 10, 8, 8, 1, 18, 4, 10, 2, 8, 1, 98, 15, 10, 1, 121, 18, 10, 10, 8, 8, 1, 18, 4, 10, 2, 8, 1, 66, 2, 16, 13];

describe('nothing outside the cache: ORT sessions (issue 16)', () => {
	it('a process that creates a session leaves no mat-debug-<pid>.log or .ses in the temp dir', () => {
		const tmp = mkdtempSync(path.join(os.tmpdir(), 'fz-ort-tmp-'));
		const work = mkdtempSync(path.join(os.tmpdir(), 'fz-ort-work-'));
		dirs.push(tmp, work);
		const script = path.join(work, 'session.mts');
		writeFileSync(
			script,
			`import {createOrtSession} from ${JSON.stringify(path.join(root, 'plugin/runtime/ort-session.ts'))};
import {GraphBuilder} from ${JSON.stringify(path.join(root, 'plugin/graph/onnx-graph-builder.ts'))};
const b = new GraphBuilder('double');
b.output('y', b.op('Mul', [b.input('x', 'float32', [1]), b.constFloat32([2], [])]), 'float32', [1]);
const session = await createOrtSession({label: 'double', graph: b.toBytes(), externalData: []}, {intraOpThreads: 1});
const out = await session.run({x: {type: 'float32', dims: [1], data: new Float32Array([3])}});
await session.dispose();
console.log(JSON.stringify(Array.from(out.y.data as Float32Array)));
`,
		);
		const env: NodeJS.ProcessEnv = {...process.env, TMPDIR: tmp, TMP: tmp, TEMP: tmp};
		delete env.ORT_DISABLE_TELEMETRY;
		const stdout = execFileSync(process.execPath, ['--import', 'tsx', script], {cwd: root, env, encoding: 'utf8'});
		expect(stdout.trim().split('\n').at(-1)).toBe('[6]');
		expect(readdirSync(tmp).filter((name) => name.startsWith('mat-debug-') || name === '.ses')).toEqual([]);
	});
});
