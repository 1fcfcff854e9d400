import {spawn, type ChildProcess} from 'node:child_process';
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {build} from 'esbuild';
import {afterAll, expect} from 'vitest';
import {CACHE_KINDS, classifyKindDirItem, IN_USE_DIR, kindDir} from '../../plugin/frame-cache/cache-layout.js';
import {verifyEntry} from '../../plugin/frame-cache/read-entry.js';
import type {JobProgress} from '../../plugin/jobs/job-progress.js';
import {generateRandomModel} from '../../plugin/model-generator/generate-random-model.js';

/** A fresh folder under the OS temp dir, removed after the file's tests. */
export const tempWorkspace = (label: string): string => {
	const dir = mkdtempSync(path.join(os.tmpdir(), `fatezero-${label}-`));
	afterAll(() => rmSync(dir, {recursive: true, force: true}));
	return dir;
};

export {writeFrames} from '../helpers/synthetic-frames.js';

/** The tiny random-weight SD model (about 0.5 s to generate, 11 MB). */
export const tinyModel = (workspace: string): string => generateRandomModel({dir: path.join(workspace, 'tiny-model'), architecture: 'tiny'}).dir;

/** A clip descriptor small enough for tests: 4 frames of 64², 3 steps, reference-frame attention on every level. */
export const testClip = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
	source: 'frames',
	sourcePrompt: 'a silver jeep driving down a road',
	prompt: 'a red car driving down a road',
	size: 64,
	frames: {count: 4},
	steps: 3,
	leastScChannel: 64,
	...overrides,
});

/**
 * Bundles the `fatezero run` / `fatezero cache` CLI (fixtures/fatezero-cli.ts) into
 * `outDir/fatezero.js` with esbuild (~0.2 s), so a child starts in about half a second instead of
 * compiling the TypeScript through tsx. Packages stay external (ORT and sharp are native; the
 * compositor's ffmpeg is found through require): a node_modules link next to the bundle resolves
 * them. The inference worker is bundled beside it as inference-worker.js, the name
 * start-inference-worker.ts looks for next to compiled code.
 */
export const bundleCli = async (outDir: string, entry = 'test/jobs/fixtures/fatezero-cli.ts'): Promise<string> => {
	const result = await build({
		entryPoints: {fatezero: path.resolve(entry), 'inference-worker': path.resolve('plugin/runtime/inference-worker.ts')},
		bundle: true,
		platform: 'node',
		format: 'esm',
		target: 'node20',
		packages: 'external',
		outdir: outDir,
		logLevel: 'silent',
	});
	if (result.errors.length > 0) throw new Error(result.errors.map((e) => e.text).join('\n'));
	writeFileSync(path.join(outDir, 'package.json'), '{"type": "module"}\n');
	if (!existsSync(path.join(outDir, 'node_modules'))) symlinkSync(path.resolve('node_modules'), path.join(outDir, 'node_modules'), 'junction');
	return path.join(outDir, 'fatezero.js');
};

/** A progress event with the milliseconds since the child was spawned. */
export type TimedEvent = JobProgress & {t: number};

export type CliRun = {
	child: ChildProcess;
	/** Progress events (with --json-progress) in arrival order. */
	events: TimedEvent[];
	/** Called for each progress event as it arrives. */
	onEvent: (listener: (event: TimedEvent) => void) => void;
	exit: Promise<{code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string}>;
};

/** The environment of a child: ours with `extra` applied (undefined removes a variable). */
export const childEnv = (extra: Record<string, string | undefined>): NodeJS.ProcessEnv => {
	const env: NodeJS.ProcessEnv = {...process.env, FATEZERO_CACHE_DIR: undefined, FATEZERO_MODEL: 'generated:tiny', FATEZERO_ENGINE_LOG: undefined, ...extra};
	for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
	return env;
};

/** Runs the bundled CLI in a child process; stderr lines that are JSON progress events are collected with their arrival time. */
export const runCli = (cli: string, args: string[], options: {env?: Record<string, string | undefined>; cwd?: string} = {}): CliRun => {
	const spawned = performance.now();
	const child = spawn(process.execPath, [cli, ...args], {cwd: options.cwd, env: childEnv(options.env ?? {}), stdio: ['ignore', 'pipe', 'pipe']});
	const events: TimedEvent[] = [];
	const listeners: ((event: TimedEvent) => void)[] = [];
	let stdout = '';
	let stderr = '';
	let partial = '';
	child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
		stdout += chunk;
	});
	child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
		stderr += chunk;
		partial += chunk;
		const lines = partial.split('\n');
		partial = lines.pop()!;
		const t = performance.now() - spawned;
		for (const line of lines) {
			if (!line.startsWith('{"job"')) continue;
			const event = {...(JSON.parse(line) as JobProgress), t};
			events.push(event);
			for (const listener of listeners) listener(event);
		}
	});
	const exit = new Promise<{code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string}>((resolve) => {
		child.on('close', (code, signal) => resolve({code, signal, stdout, stderr}));
	});
	return {child, events, onEvent: (listener) => listeners.push(listener), exit};
};

/** The JSON object `fatezero run` prints last. */
export const runResult = (stdout: string): {key: string; status: string; path: string} => {
	const lines = stdout.trim().split('\n');
	return JSON.parse(lines[lines.length - 1]) as {key: string; status: string; path: string};
};

/** The PNG frames of a clip entry, by name. */
export const clipFrames = (dir: string): Map<string, Buffer> =>
	new Map(
		readdirSync(dir)
			.filter((name) => name.endsWith('.png'))
			.sort()
			.map((name) => [name, readFileSync(path.join(dir, name))]),
	);

/** FATEZERO_ENGINE_LOG lines: one per actual engine computation. */
export const engineRuns = (logFile: string): {pid: number; kind: 'invert' | 'edit'; key: string}[] =>
	existsSync(logFile)
		? readFileSync(logFile, 'utf8')
				.split('\n')
				.filter(Boolean)
				.map((line) => JSON.parse(line) as {pid: number; kind: 'invert' | 'edit'; key: string})
		: [];

export type CacheLeftovers = {entries: number; temp: number; locks: number; trash: number};

/**
 * The invariant of the cache after any crash: every name under sources/, inversions/ and clips/
 * is either a published entry that passes the full check (manifest complete, every file present
 * and matching its SHA-256), or a dot-prefixed bookkeeping name that readers never open (a
 * crashed writer's .tmp- directory, a lock, trash). Returns what it found.
 */
export const expectOnlyVerifiedEntries = async (cacheDir: string): Promise<CacheLeftovers> => {
	const found: CacheLeftovers = {entries: 0, temp: 0, locks: 0, trash: 0};
	for (const kind of CACHE_KINDS) {
		const dir = kindDir(cacheDir, kind);
		if (!existsSync(dir)) continue;
		for (const name of readdirSync(dir)) {
			const item = classifyKindDirItem(name);
			if (item.type === 'entry') {
				const verified = await verifyEntry(cacheDir, kind, item.key);
				expect(verified, `${kind}/${name}`).toMatchObject({ok: true, problems: []});
				found.entries++;
			} else if (item.type === 'temp') found.temp++;
			else if (item.type === 'lock') found.locks++;
			else if (item.type === 'trash') found.trash++;
			else expect(['takeover-guard', 'write-probe'].includes(item.type) || name === IN_USE_DIR, `unexpected ${kind}/${name}`).toBe(true);
		}
	}
	return found;
};
