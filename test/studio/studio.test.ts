import {spawn, type ChildProcess} from 'node:child_process';
import {existsSync} from 'node:fs';
import path from 'node:path';
import {openBrowser} from '@remotion/renderer';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {descriptorKey} from '../../plugin/clip/descriptor-key.js';
import {fateZeroClip} from '../../plugin/clip/fatezero-clip.js';
import {generateRandomModel} from '../../plugin/model-generator/generate-random-model.js';
import {resolveBrowserExecutable} from '../../plugin/node/browser-executable.js';
import type {StudioJobState} from '../../plugin/clip/studio-job-state.js';
import {EDITED_PROMPT, PROMPT_EDIT_EVENT, STUDIO_TEST_SOURCE, studioTestClip} from './fixture/studio-test-clip.js';
import {tempWorkspace, waitFor, writeFrames} from './studio-test-helpers.js';

// Must show (issue "The Remotion plugin", item 5): `fatezero studio` headless, the Studio page
// opened in Debian Chromium (driven through @remotion/renderer's openBrowser, a devDependency),
// the progress card of an uncached clip, then its edited frame once the job is done, without a
// reload; a prompt edit then runs a new job while the old result stays cached; and the live job
// server refusing another Origin and a source outside the project.

// Debian's /usr/bin/chromium (or FATEZERO_BROWSER_EXECUTABLE); Remotion's own download needs network
const browserExecutable = resolveBrowserExecutable();
const workspace = tempWorkspace('studio-e2e');
const cacheDir = path.join(workspace, 'cache');
const key = descriptorKey(studioTestClip);
const editedKey = descriptorKey(fateZeroClip({...studioTestClip, prompt: EDITED_PROMPT}));

type Seen = {t: number; card: string | null; cardKey: string | null; stage: string | null; status: string | null; preview: number | null; clipImages: {src: string; width: number}[]};
type Browser = Awaited<ReturnType<typeof openBrowser>>;
type Page = Awaited<ReturnType<Browser['newPage']>>;

let cli: ChildProcess;
let stdout = '';
let stderr = '';
let exit: Promise<{code: number | null; signal: NodeJS.Signals | null}>;
let jobServer: string;
let studio: string;
let browser: Browser | null = null;
let page: Page;
const browserLog: string[] = [];
const seen: Seen[] = [];
const started = performance.now();
const timings: Record<string, number> = {};
const mark = (name: string) => (timings[name] = Math.round(performance.now() - started));

const output = () => `--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`;

beforeAll(async () => {
	await writeFrames(path.join(workspace, STUDIO_TEST_SOURCE), {count: 4, size: 64});
	const model = generateRandomModel({dir: path.join(workspace, 'tiny-model'), architecture: 'tiny'}).dir;
	const env: NodeJS.ProcessEnv = {...process.env};
	delete env.FATEZERO_CACHE_DIR;
	env.FATEZERO_MODEL = 'generated:tiny'; // the tests opt in to the generated model
	cli = spawn(
		process.execPath,
		// the sources through tsx, as bin/fatezero.js runs them when there is no build (a stale dist/ would not do)
		['--import', 'tsx', 'plugin/cli/main.ts', 'studio', 'test/studio/fixture/index.ts', '--cache-dir', cacheDir, '--public-dir', path.join(workspace, 'public'), '--project-root', workspace, '--model', model, '--job-server-port', '0'],
		{cwd: path.resolve('.'), env, stdio: ['ignore', 'pipe', 'pipe']},
	);
	cli.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
	cli.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
	exit = new Promise((resolve) => cli.once('exit', (code, signal) => resolve({code, signal})));
	jobServer = await waitFor('the job server URL', () => /FateZero job server: (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1], 30_000);
	studio = await waitFor('the Studio URL', () => /Remotion Studio: (http:\/\/localhost:\d+)/.exec(stdout)?.[1], 30_000);
	mark('server up');
	await waitFor(`Studio to be ready\n${output()}`, () => (stdout.includes('✔ Studio ready') ? true : cli.exitCode !== null ? Promise.reject(new Error(`fatezero studio exited early\n${output()}`)) : undefined), 60_000, 200);
	mark('studio ready');
});

afterAll(async () => {
	await browser?.close({silent: true});
	if (cli && cli.exitCode === null && cli.signalCode === null) {
		cli.kill('SIGINT');
		await Promise.race([exit, new Promise((resolve) => setTimeout(resolve, 10_000))]);
		if (cli.exitCode === null && cli.signalCode === null) cli.kill('SIGKILL');
	}
	console.log(`studio e2e timings (ms since start): ${JSON.stringify(timings)}`);
});

describe('fatezero studio', () => {
	it('has a job server that refuses another Origin, a source outside the project and an invalid descriptor', async () => {
		const studioOrigin = {Origin: studio, 'Content-Type': 'application/json'};
		const evil = await fetch(`${jobServer}/jobs`, {method: 'POST', headers: {Origin: 'http://evil.example', 'Content-Type': 'application/json'}, body: JSON.stringify(studioTestClip)});
		expect(evil.status).toBe(403);
		expect(((await evil.json()) as {error: string}).error).toContain('Origin "http://evil.example" is not allowed');

		const escape = await fetch(`${jobServer}/jobs`, {method: 'POST', headers: studioOrigin, body: JSON.stringify({...studioTestClip, source: '../../etc/passwd'})});
		expect(escape.status).toBe(403);
		expect(((await escape.json()) as {error: string}).error).toContain(`source "../../etc/passwd" resolves to ${path.resolve(workspace, '../../etc/passwd')}, outside the project root ${workspace}`);

		const invalid = await fetch(`${jobServer}/jobs`, {method: 'POST', headers: studioOrigin, body: JSON.stringify({...studioTestClip, steps: 0})});
		expect(invalid.status).toBe(400);
		expect(((await invalid.json()) as {error: string}).error).toMatch(/steps: expected a whole number in \[1, \d+\], got 0/);

		// none of them queued anything: the clip is still unknown to the server
		expect((await fetch(`${jobServer}/jobs/${key}`, {headers: {Origin: studio}})).status).toBe(404);
	});

	/** What the page shows now: the card (its text, key, stage, status, preview) and the clip images. */
	const look = async (): Promise<Seen> => {
		const state = (await page.evaluate(() => {
			const card = document.querySelector<HTMLElement>('[data-fatezero-card]');
			const preview = card?.querySelector<HTMLImageElement>('img[data-fatezero-preview]') ?? null;
			return {
				card: card ? card.innerText : null,
				cardKey: card ? (card.dataset.fatezeroCard ?? null) : null,
				stage: card ? (card.dataset.stage ?? null) : null,
				status: card ? (card.dataset.status ?? null) : null,
				preview: preview && preview.complete ? preview.naturalWidth : null,
				clipImages: Array.from(document.querySelectorAll<HTMLImageElement>('img'))
					.filter((img) => img.src.includes('/clips/'))
					.map((img) => ({src: img.src, width: img.complete ? img.naturalWidth : 0})),
			};
		})) as Omit<Seen, 't'>;
		const observation = {t: Math.round(performance.now() - started), ...state};
		seen.push(observation);
		return observation;
	};

	/** Polls the page until the card is gone and an edited frame of `editKey` has loaded. */
	const waitForEditedFrame = (editKeyOf: () => Promise<string | undefined>) =>
		waitFor(
			'the edited frame in place of the card',
			async () => {
				const now = await look();
				const editKey = await editKeyOf();
				return editKey && now.card === null && now.clipImages.some((img) => img.width > 0 && img.src.includes(`/clips/${editKey}/`)) ? now : undefined;
			},
			60_000,
			100,
		).catch((error: Error) => {
			throw new Error(`${error.message}\nlast seen: ${JSON.stringify(seen.slice(-3))}\nbrowser: ${browserLog.slice(-10).join('\n')}\n${output()}`);
		});

	const jobState = async (descriptorKey: string): Promise<StudioJobState | null> => {
		const response = await fetch(`${jobServer}/jobs/${descriptorKey}`, {headers: {Origin: studio}});
		return response.ok ? ((await response.json()) as StudioJobState) : null;
	};
	const doneEditKey = async (descriptorKey: string) => {
		const state = await jobState(descriptorKey);
		return state?.status === 'done' ? state.editKey : undefined;
	};

	it.skipIf(!browserExecutable)('shows the progress card of an uncached clip in headless Chromium, then its edited frames', async () => {
		browser = await openBrowser('chrome', {browserExecutable, logLevel: 'error'});
		page = await browser.newPage({context: () => null, logLevel: 'error', indent: false, pageIndex: 0, onBrowserLog: (log) => browserLog.push(`${log.type}: ${log.text}`), onLog: () => undefined});
		await page.goto({url: `${studio}/StudioJobClip`, timeout: 30_000});
		mark('page loaded');
		const edited = await waitForEditedFrame(() => doneEditKey(key));
		mark('edited frame shown');

		// the card: the clip's name, a stage, step i/N, and the preview image (source frame 0, 64 px)
		const cards = seen.filter((s) => s.card !== null);
		expect(cards.length).toBeGreaterThan(0);
		expect(cards.every((s) => s.cardKey === key)).toBe(true);
		expect(cards[0].card).toContain('FateZero · studio test clip');
		// 'done' too: the last progress event (done 1/1) can be sampled before the job's state turns done
		const progress = cards.filter((s) => /step \d+\/\d+/.test(s.card!) && s.status === 'running');
		expect(progress.length, JSON.stringify(cards.map((c) => c.card))).toBeGreaterThan(0);
		expect(progress.every((s) => ['import', 'load', 'invert', 'edit', 'decode', 'publish', 'wait', 'done'].includes(s.stage!)), JSON.stringify(progress.map((s) => s.stage))).toBe(true);
		expect(cards.some((s) => s.preview === 64), 'the preview frame was shown').toBe(true);

		// then the edited frames, served by Studio from a cache entry it did not have when it started
		const job = await jobState(key);
		expect(job).toMatchObject({status: 'done', stage: 'done', descriptorKey: key});
		const frame = edited.clipImages.find((img) => img.width > 0)!;
		expect(frame.src).toMatch(new RegExp(`^${studio}/static-[0-9a-f]+/fatezero/clips/${job!.editKey}/00000\\.png$`));
		expect(frame.width).toBe(64);
	});

	it.skipIf(!browserExecutable)('runs a new job when the prompt is edited, and keeps the old result cached', async () => {
		const before = seen.length;
		const oldEditKey = (await jobState(key))!.editKey!;
		await page.evaluate((event: string, prompt: string) => window.dispatchEvent(new CustomEvent(event, {detail: prompt})), PROMPT_EDIT_EVENT, EDITED_PROMPT);
		const edited = await waitForEditedFrame(() => doneEditKey(editedKey));
		mark('edited prompt shown');
		const cards = seen.slice(before).filter((s) => s.card !== null);
		expect(cards.length, 'a card for the new clip').toBeGreaterThan(0);
		expect(cards.every((s) => s.cardKey === editedKey)).toBe(true);
		const newEditKey = (await jobState(editedKey))!.editKey!;
		expect(newEditKey).not.toBe(oldEditKey);
		expect(edited.clipImages.some((img) => img.src.includes(`/clips/${newEditKey}/`))).toBe(true);
		// the old clip is still cached (and still done on the server): switching back needs no job
		expect(existsSync(path.join(cacheDir, 'clips', oldEditKey, 'manifest.json'))).toBe(true);
		expect(existsSync(path.join(cacheDir, 'index', `${key}.json`))).toBe(true);
		expect((await jobState(key))!.status).toBe('done');
		expect(browserLog.filter((line) => line.includes('FateZero job'))).toEqual([]);
	});

	it('stops Studio and the job server on Ctrl-C', async () => {
		cli.kill('SIGINT');
		const {code} = await Promise.race([exit, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no exit 15 s after SIGINT\n${output()}`)), 15_000))]);
		mark('stopped');
		expect(code).toBe(0);
		expect(stdout).toContain('Stopping Remotion Studio and the FateZero job server (SIGINT)');
		await expect(fetch(`${jobServer}/jobs`)).rejects.toThrow();
		await waitFor('Studio to stop listening', () => fetch(studio).then(() => undefined, () => true), 10_000, 200);
	});
});
