import {spawn, type ChildProcess} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {build} from 'esbuild';
import {afterAll} from 'vitest';
import type {EntryWriter} from '../../plugin/frame-cache/publish-entry.js';
import type {ManifestFields} from '../../plugin/frame-cache/entry-manifest.js';
import {frameBytes} from './frame-bytes.js';

export {frameBytes};

/** A fresh cache directory under the OS temp dir, removed after the file's tests. */
export const tempCacheDir = (label: string): string => {
	const dir = mkdtempSync(path.join(os.tmpdir(), `fatezero-${label}-`));
	afterAll(() => rmSync(dir, {recursive: true, force: true}));
	return dir;
};

/** A compute function writing `frames` small PNG-named frames. */
export const writeTestFrames =
	(frames = 3, seed = 1) =>
	async (_dir: string, writer: EntryWriter): Promise<ManifestFields> => {
		for (let f = 0; f < frames; f++) await writer.writeFile(`${String(f).padStart(5, '0')}.png`, frameBytes(f, 4096, seed));
		return {keyInputs: {test: true, seed}, frameCount: frames, fps: 12, width: 64, height: 64, timingsMs: {edit: 1}};
	};

export const fixture = (name: string): string => path.resolve('test/frame-cache/fixtures', name);

const bundled = new Map<string, string>();

/**
 * Bundles the TypeScript fixtures into plain .mjs files (esbuild, a few tens of ms), so each
 * child starts in ~0.1 s instead of ~1 s under tsx: the kill test spawns twenty of them.
 */
export const bundleFixtures = async (names: string[], outDir: string): Promise<void> => {
	const result = await build({
		entryPoints: names.map((name) => fixture(name)),
		bundle: true,
		platform: 'node',
		format: 'esm',
		target: 'node20',
		outdir: outDir,
		outExtension: {'.js': '.mjs'},
		logLevel: 'silent',
	});
	if (result.errors.length > 0) throw new Error(result.errors.map((e) => e.text).join('\n'));
	for (const name of names) bundled.set(name, path.join(outDir, name.replace(/\.ts$/, '.mjs')));
};

export type ChildRun = {child: ChildProcess; lines: string[]; exit: Promise<{code: number | null; signal: NodeJS.Signals | null}>; firstLine: Promise<string>};

/** Runs a fixture in a child Node process: its bundle when built, else the TypeScript through tsx (as bin/fatezero.js does). */
export const runFixture = (name: string, args: string[]): ChildRun => {
	const script = bundled.get(name);
	const child = spawn(process.execPath, script ? [script, ...args] : ['--import', 'tsx', fixture(name), ...args], {stdio: ['ignore', 'pipe', 'pipe']});
	const lines: string[] = [];
	let stderr = '';
	let resolveFirst: (line: string) => void = () => undefined;
	const firstLine = new Promise<string>((resolve) => {
		resolveFirst = resolve;
	});
	let buffered = '';
	child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
		buffered += chunk;
		const parts = buffered.split('\n');
		buffered = parts.pop()!;
		for (const line of parts) {
			if (lines.length === 0) resolveFirst(line);
			lines.push(line);
		}
	});
	child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
		stderr += chunk;
	});
	const exit = new Promise<{code: number | null; signal: NodeJS.Signals | null}>((resolve) => {
		child.on('exit', (code, signal) => {
			if (code !== 0 && signal === null && stderr) console.error(`${name} failed:\n${stderr}`);
			resolveFirst('');
			resolve({code, signal});
		});
	});
	return {child, lines, exit, firstLine};
};

/** The pid of a process that has exited (for dead-owner locks). */
export const deadPid = async (): Promise<number> => {
	const child = spawn(process.execPath, ['-e', '']);
	await new Promise((resolve) => child.on('exit', resolve));
	return child.pid!;
};
