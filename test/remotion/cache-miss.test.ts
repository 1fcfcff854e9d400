import {spawn} from 'node:child_process';
import path from 'node:path';
import {renderMedia, selectComposition} from '@remotion/renderer';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {BROWSER, bundleDemo, demoProject, launchBrowser, tempProject, testSettings, tinyClip} from './remotion-test-helpers.js';

// A render that meets a clip missing from the cache must fail at once, naming the command that
// fills the cache, on the plain Remotion paths (no prerender involved): `npx remotion render`,
// and the Node renderMedia() API. Never a 30-second delayRender timeout.

const root = tempProject('miss');
const publicDir = path.join(root, 'public');
// Never prerendered: its key is not in this (empty) cache.
const inputProps = {clip: tinyClip(path.join(root, 'no-such-frames'), 'a clip nobody prerendered'), from: 0};
const COMMAND = 'npx fatezero prerender remotion/index.ts ClipInSequence';
let serveUrl: string;
let browser: Awaited<ReturnType<typeof launchBrowser>>;

beforeAll(async () => {
	serveUrl = await bundleDemo(await demoProject(testSettings(root)));
	browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
	await browser?.close({silent: true});
});

/** Runs `npx remotion render` (the installed CLI, as npx would) and collects its output. */
const remotionRender = (args: string[]) =>
	new Promise<{code: number | null; output: string; ms: number}>((resolve) => {
		const started = performance.now();
		const child = spawn(process.execPath, [path.resolve('node_modules/@remotion/cli/remotion-cli.js'), 'render', ...args], {stdio: ['ignore', 'pipe', 'pipe']});
		let output = '';
		child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
		child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
		child.on('close', (code) => resolve({code, output, ms: performance.now() - started}));
	});

describe('a render with a clip missing from the cache', () => {
	it('`npx remotion render <entry>` fails at once with the prerender command, not a delayRender timeout', async () => {
		// As a user runs it: the CLI bundles the entry itself and reads remotion.config.ts; only the
		// public dir points at this test's empty cache.
		const {code, output, ms} = await remotionRender(['remotion/index.ts', 'ClipInSequence', path.join(root, 'miss-entry.mp4'), `--props=${JSON.stringify(inputProps)}`, `--public-dir=${publicDir}`, `--browser-executable=${BROWSER}`, '--log=error']);
		console.log(`npx remotion render remotion/index.ts: exit ${code} after ${(ms / 1000).toFixed(1)} s`);
		expect(code).not.toBe(0);
		expect(output).toContain('FateZero cache miss');
		expect(output).toContain(COMMAND);
	});

	it('`npx remotion render <bundle>` fails at once with the prerender command, not a delayRender timeout', async () => {
		// The bundle made above (its public dir is the empty cache), as `npx remotion render <serve-url>` takes it.
		const {code, output, ms} = await remotionRender([serveUrl, 'ClipInSequence', path.join(root, 'miss.mp4'), `--props=${JSON.stringify(inputProps)}`, `--browser-executable=${BROWSER}`, '--log=error']);
		console.log(`npx remotion render <bundle>: exit ${code} after ${(ms / 1000).toFixed(1)} s`);
		expect(code).not.toBe(0);
		expect(output).toContain('FateZero cache miss');
		expect(output).toContain(COMMAND);
	});

	it('selectComposition() (calculateMetadata) rejects at once with the prerender command', async () => {
		const started = performance.now();
		const error = await selectComposition({serveUrl, id: 'ClipInSequence', inputProps, puppeteerInstance: browser, logLevel: 'error'}).then(
			() => null,
			(e: unknown) => e as Error,
		);
		const ms = performance.now() - started;
		console.log(`selectComposition: rejected after ${(ms / 1000).toFixed(1)} s`);
		expect(error?.message).toContain('FateZero cache miss');
		expect(error?.message).toContain(COMMAND);
	});

	it('renderMedia() with metadata resolved earlier (the clip left the cache since) fails at once from the component', async () => {
		// Metadata as selectComposition returns it for a cached clip; renderMedia() does not run
		// calculateMetadata again, so here <FateZeroClip> itself meets the miss while rendering.
		const composition = {...(await selectComposition({serveUrl, id: 'DemoSource', puppeteerInstance: browser, logLevel: 'error'})), id: 'ClipInSequence', width: 128, height: 128, fps: 30, durationInFrames: 30, props: inputProps};
		const started = performance.now();
		const error = await renderMedia({composition, serveUrl, codec: 'h264', outputLocation: path.join(root, 'miss-api.mp4'), inputProps, puppeteerInstance: browser, logLevel: 'error', onBrowserLog: () => undefined}).then(
			() => null,
			(e: unknown) => e as Error,
		);
		const ms = performance.now() - started;
		console.log(`renderMedia: rejected after ${(ms / 1000).toFixed(1)} s`);
		expect(error?.message).toContain('FateZero cache miss');
		expect(error?.message).toContain(COMMAND);
	});
});
