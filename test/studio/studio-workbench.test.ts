import {spawn, type ChildProcess} from 'node:child_process';
import {mkdirSync, readdirSync, renameSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {openBrowser} from '@remotion/renderer';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {descriptorKey} from '../../plugin/clip/descriptor-key.js';
import {draftClip} from '../../plugin/clip/draft-clip.js';
import {fateZeroClip} from '../../plugin/clip/fatezero-clip.js';
import {resolveBrowserExecutable} from '../../plugin/node/browser-executable.js';
import type {StudioJobState} from '../../plugin/clip/studio-job-state.js';
import {tempWorkspace, waitFor, writeFrames} from './studio-test-helpers.js';
import {draftedClip, durationClip, FLAKY_SOURCE, flakyClip, orphanClip, previewClip, slowClip, typedClip, WORKBENCH_SOURCE} from './workbench-fixture/workbench-clips.js';

// Must show (issue 13): Studio as the editing workbench, in headless Debian Chromium. Typing a
// prompt in the props panel asks for one job; a running job is cancelled from the card, when no
// composition shows it, and when its tab is closed; a failed job shows its error and Retry
// succeeds once the source is back; the preview changes during a job; a durationFromClip
// composition follows its clip. And (issue 16) Studio listens on loopback.

const browserExecutable = resolveBrowserExecutable();
const workspace = tempWorkspace('studio-workbench');

type Browser = Awaited<ReturnType<typeof openBrowser>>;
type Page = Awaited<ReturnType<Browser['newPage']>>;
type Card = {draft: string | null; draftText: string | null; status: string | null; stage: string | null; text: string | null; previewVersion: number; previewStage: string | null; previewWidth: number | null; duration: number | null; clipImages: string[]};

let cli: ChildProcess;
let stdout = '';
let stderr = '';
let exit: Promise<unknown>;
let jobServer: string;
let studio: string;
let browser: Browser | null = null;
let page: Page;
const browserLog: string[] = [];
const output = () => `--- stdout ---\n${stdout.slice(-4000)}\n--- stderr ---\n${stderr.slice(-4000)}\n--- browser ---\n${browserLog.slice(-10).join('\n')}`;

beforeAll(async () => {
	await writeFrames(path.join(workspace, WORKBENCH_SOURCE), {count: 6, size: 64});
	await writeFrames(path.join(workspace, FLAKY_SOURCE), {count: 4, size: 64});
	const env: NodeJS.ProcessEnv = {...process.env};
	delete env.FATEZERO_CACHE_DIR;
	cli = spawn(
		process.execPath,
		['--import', 'tsx', 'plugin/cli/main.ts', 'studio', 'test/studio/workbench-fixture/index.ts', '--cache-dir', path.join(workspace, 'cache'), '--public-dir', path.join(workspace, 'public'), '--project-root', workspace, '--model', 'generated:tiny', '--job-server-port', '0'],
		{cwd: path.resolve('.'), env, stdio: ['ignore', 'pipe', 'pipe']},
	);
	cli.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
	cli.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
	exit = new Promise((resolve) => cli.once('exit', resolve));
	jobServer = await waitFor('the job server URL', () => /FateZero job server: (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1], 30_000);
	studio = await waitFor('the Studio URL', () => /Remotion Studio: (http:\/\/localhost:\d+)/.exec(stdout)?.[1], 30_000);
	await waitFor(`Studio to be ready\n${output()}`, () => (stdout.includes('✔ Studio ready') ? true : cli.exitCode !== null ? Promise.reject(new Error(`fatezero studio exited early\n${output()}`)) : undefined), 60_000, 200);
	if (browserExecutable) {
		browser = await openBrowser('chrome', {browserExecutable, logLevel: 'error'});
		page = await browser.newPage({context: () => null, logLevel: 'error', indent: false, pageIndex: 0, onBrowserLog: (log) => browserLog.push(`${log.type}: ${log.text}`), onLog: () => undefined});
		// wide enough for the props panel, which Studio opens when its sidebar state says so
		await page.setViewport({width: 1600, height: 1000, deviceScaleFactor: 1});
		await page.goto({url: `${studio}/DurationClip`, timeout: 30_000});
		await page.evaluate(() => localStorage.setItem('remotion.sidebarRightCollapsing', 'expanded'));
	}
}, 120_000);

afterAll(async () => {
	await browser?.close({silent: true});
	if (cli && cli.exitCode === null && cli.signalCode === null) {
		cli.kill('SIGINT');
		await Promise.race([exit, new Promise((resolve) => setTimeout(resolve, 10_000))]);
		if (cli.exitCode === null && cli.signalCode === null) cli.kill('SIGKILL');
	}
});

const open = async (composition: string) => {
	await page.goto({url: `${studio}/${composition}`, timeout: 30_000});
};

/** What the page shows now: the card of `key` (status, stage, text, preview) and the clip images. */
const look = (key: string): Promise<Card> =>
	page.evaluate((wanted: string) => {
		const card = document.querySelector<HTMLElement>(`[data-fatezero-card="${wanted}"]`);
		const preview = card?.querySelector<HTMLImageElement>('img[data-fatezero-preview]') ?? null;
		const duration = document.querySelector<HTMLElement>('[data-workbench-duration]')?.dataset.workbenchDuration;
		const badge = document.querySelector<HTMLElement>(`[data-fatezero-draft="${wanted}"]`);
		return {
			draft: badge?.dataset.status ?? null,
			draftText: badge ? badge.innerText : null,
			status: card?.dataset.status ?? null,
			stage: card?.dataset.stage ?? null,
			text: card ? card.innerText : null,
			previewVersion: Number(card?.dataset.previewVersion ?? 0),
			previewStage: card?.dataset.previewStage || null,
			previewWidth: preview && preview.complete ? preview.naturalWidth : null,
			duration: duration === undefined ? null : Number(duration),
			clipImages: Array.from(document.querySelectorAll<HTMLImageElement>('img'))
				.filter((img) => img.src.includes('/clips/') && img.complete && img.naturalWidth > 0)
				.map((img) => img.src),
		};
	}, key) as Promise<Card>;

const jobState = async (key: string): Promise<StudioJobState | null> => {
	const response = await fetch(`${jobServer}/jobs/${key}`);
	return response.ok ? ((await response.json()) as StudioJobState) : null;
};
const jobList = async (): Promise<StudioJobState[]> => (await (await fetch(`${jobServer}/jobs`)).json()) as StudioJobState[];

// what waitForEditedFrame saw, for tests that check the way there
const observed: Card[] = [];

/** Waits until the page shows an edited frame of `key`'s finished job (not a draft). */
const waitForEditedFrame = (key: string, timeoutMs = 60_000) =>
	waitFor(
		`the edited frame of ${key.slice(0, 12)}`,
		async () => {
			const editKey = (await jobState(key))?.editKey;
			const now = await look(key);
			observed.push(now);
			return editKey && now.status === null && now.draft === null && now.clipImages.some((src) => src.includes(`/clips/${editKey}/`)) ? now : undefined;
		},
		timeoutMs,
		100,
	).catch((error: Error) => {
		throw new Error(`${error.message}\n${output()}`);
	});

/** Clicks the element `selector` (its React onClick runs as for a user's click). */
const click = async (selector: string) => {
	const found = await page.evaluate((s: string) => {
		const element = document.querySelector<HTMLElement>(s);
		element?.click();
		return element !== null;
	}, selector);
	if (!found) throw new Error(`nothing matches ${selector}`);
};

/** Types `text` key by key (CDP key events, as a keyboard does) into the focused element, `delayMs` apart. */
const typeKeys = async (text: string, delayMs: number) => {
	const client = page._client();
	const send = client.send.bind(client) as unknown as (method: string, params: unknown) => Promise<unknown>;
	for (const char of text) {
		await send('Input.dispatchKeyEvent', {type: 'keyDown', key: char, text: char, unmodifiedText: char});
		await send('Input.dispatchKeyEvent', {type: 'keyUp', key: char});
		await new Promise((resolve) => setTimeout(resolve, delayMs));
	}
};

describe.skipIf(!browserExecutable)('Studio as the editing workbench', () => {
	it('updates a durationFromClip composition once its job is done, without a reload', async () => {
		await open('DurationClip');
		const key = descriptorKey(durationClip);
		const before = await waitFor('the card', async () => ((await look(key)).status ? await look(key) : undefined), 20_000);
		expect(before.duration).toBe(1);
		const after = await waitFor(
			'the new duration',
			async () => {
				const now = await look(key);
				return now.duration === 6 ? now : undefined;
			},
			60_000,
		).catch((error: Error) => {
			throw new Error(`${error.message}\n${output()}`);
		});
		expect((await jobState(key))?.status).toBe('done');
	});

	it('asks for exactly one job when a prompt is typed key by key in the props panel', async () => {
		await open('TypedPrompt');
		const first = descriptorKey(typedClip);
		await waitForEditedFrame(first);
		const typed = 'a green bus';
		const finalKey = descriptorKey(fateZeroClip({...typedClip, prompt: typed}));
		// the prompt field of Studio's props editor (schema: studioClipSchema, the prompt a zTextarea)
		await waitFor('the prompt field', () => page.evaluate(() => (document.querySelector('textarea[name="clip.prompt"]') ? true : undefined)), 20_000);
		const panel = (await page.evaluate(() => document.querySelector('textarea[name="clip.prompt"]')!.closest('[class],div')!.ownerDocument.body.innerText)) as string;
		expect(panel).not.toMatch(/not editable/);
		for (const field of ['reweight', 'crossReplaceStart', 'crossReplaceEnd', 'selfReplaceStart', 'attention', 'customAttention', 'blendSourceWords']) expect(panel, field).toContain(`${field}:`);
		await page.evaluate(() => {
			const input = document.querySelector<HTMLTextAreaElement>('textarea[name="clip.prompt"]')!;
			input.focus();
			input.select();
		});
		await typeKeys(typed, 80);
		expect(await page.evaluate(() => document.querySelector<HTMLTextAreaElement>('textarea[name="clip.prompt"]')!.value)).toBe(typed);
		await waitForEditedFrame(finalKey);
		const typedJobs = (await jobList()).filter((job) => job.label === 'typed');
		// the clip the composition opened with, and the final prompt: no job for any prefix of it
		expect(typedJobs.map((job) => job.descriptorKey).sort()).toEqual([first, finalKey].sort());
		expect(typedJobs.every((job) => job.status === 'done')).toBe(true);
	});

	it('cancels a running job from the page (on the draft badge: the final job runs after its draft)', async () => {
		await open('SlowClip');
		const key = descriptorKey(slowClip);
		await waitFor('the final job to run', async () => ((await jobState(key))?.stage === 'invert' && (await look(key)).draft === 'running' ? true : undefined), 60_000, 100).catch((error: Error) => {
			throw new Error(`${error.message}\n${output()}`);
		});
		await click(`[data-fatezero-draft="${key}"] [data-fatezero-cancel]`);
		const cancelled = await waitFor('the cancelled job', async () => {
			const now = await look(key);
			return now.draft === 'cancelled' ? now : undefined;
		}, 10_000);
		expect(cancelled.draftText).toContain('Retry');
		expect(await jobState(key)).toMatchObject({status: 'cancelled', cancelledBy: 'user'});
		expect(stdout).toContain(`⊘ job ${key.slice(0, 12)} "slow" cancelled`);
	});

	it('cancels a running job once no open composition shows its clip (after the grace period)', async () => {
		await open('OrphanClip');
		const key = descriptorKey(orphanClip);
		await waitFor('the final job to run', async () => ((await jobState(key))?.stage === 'invert' ? true : undefined), 60_000, 100).catch((error: Error) => {
			throw new Error(`${error.message}\n${output()}`);
		});
		// another composition, chosen in Studio's sidebar (no reload: the clip unmounts)
		const clicked = await page.evaluate(() => {
			const label = Array.from(document.querySelectorAll<HTMLElement>('body *')).find((element) => element.childElementCount === 0 && element.textContent === 'DurationClip');
			const target = label?.closest<HTMLElement>('a, button, [role="button"], [tabindex]') ?? label;
			target?.click();
			return Boolean(target);
		});
		expect(clicked).toBe(true);
		const cancelled = await waitFor('the job to be cancelled as unused', async () => {
			const state = await jobState(key);
			return state?.status === 'cancelled' ? state : undefined;
		}, 30_000, 200);
		expect(cancelled.cancelledBy).toBe('unused');
	});

	it('cancels a running job once the page that asked for it is closed (the job server notices; the page sends nothing)', async () => {
		// a second tab shows the clip; the main page shows another composition
		const tab = await browser!.newPage({context: () => null, logLevel: 'error', indent: false, pageIndex: 1, onBrowserLog: (log) => browserLog.push(`tab ${log.type}: ${log.text}`), onLog: () => undefined});
		await tab.goto({url: `${studio}/OrphanClip`, timeout: 30_000});
		const key = descriptorKey(orphanClip);
		// the run the test before cancelled stays listed (cancelled) until the tab asks again; the new
		// run may start at any stage (that run's inversion may be cached), so any running state counts
		await waitFor('the final job to run again', async () => {
			const state = await jobState(key);
			return state?.status === 'running' ? true : undefined;
		}, 60_000, 100).catch((error: Error) => {
			throw new Error(`${error.message}\n${output()}`);
		});
		await tab.close();
		// after the job server's grace for a page that is gone (15 s)
		const cancelled = await waitFor('the job of the closed page to be cancelled', async () => {
			const state = await jobState(key);
			return state?.status === 'cancelled' ? state : undefined;
		}, 60_000, 200).catch((error: Error) => {
			throw new Error(`${error.message}\n${output()}`);
		});
		expect(cancelled.cancelledBy).toBe('unused');
	});

	it('shows a draft marked, then the final clip in its place', async () => {
		await open('DraftedClip');
		const key = descriptorKey(draftedClip);
		const draftKey = descriptorKey(draftClip(draftedClip)!);
		observed.splice(0);
		await waitForEditedFrame(key);
		const draftEditKey = (await jobState(draftKey))?.editKey;
		const finalEditKey = (await jobState(key))?.editKey;
		expect(draftEditKey).toBeDefined();
		expect(finalEditKey).not.toBe(draftEditKey);
		const drafted = observed.filter((card) => card.draft !== null && card.clipImages.some((src) => src.includes(`/clips/${draftEditKey}/`)));
		expect(drafted.length, 'the draft frames were shown, marked').toBeGreaterThan(0);
		expect(drafted[0].draftText).toContain('DRAFT');
		const last = await look(key);
		expect(last.draft).toBeNull();
		expect(last.clipImages.some((src) => src.includes(`/clips/${finalEditKey}/`))).toBe(true);
		expect(last.clipImages.some((src) => src.includes(`/clips/${draftEditKey}/`))).toBe(false);
	});

	it('shows a failed job with its error, and Retry succeeds once the source is back', async () => {
		const key = descriptorKey(flakyClip);
		const folder = path.join(workspace, FLAKY_SOURCE);
		const aside = path.join(workspace, 'flaky-aside');
		mkdirSync(aside);
		for (const name of readdirSync(folder)) renameSync(path.join(folder, name), path.join(aside, name));
		await open('FlakyClip');
		const failed = await waitFor('the failed card', async () => {
			const now = await look(key);
			return now.status === 'failed' ? now : undefined;
		}, 60_000).catch((error: Error) => {
			throw new Error(`${error.message}\n${output()}`);
		});
		expect(failed.text).toContain('Failed');
		expect(failed.text).toMatch(/The FateZero job failed: .+/);
		expect(failed.text).toContain('Retry');
		for (const name of readdirSync(aside)) renameSync(path.join(aside, name), path.join(folder, name));
		await click(`[data-fatezero-card="${key}"] [data-fatezero-retry]`);
		await waitForEditedFrame(key);
		expect((await jobState(key))?.status).toBe('done');
	});

	it('shows the edit taking shape: the preview image changes during the job', async () => {
		await open('PreviewClip');
		const key = descriptorKey(previewClip);
		const seen: Card[] = [];
		await waitFor(
			'the job to finish',
			async () => {
				const now = await look(key);
				seen.push(now);
				return (await jobState(key))?.status === 'done' ? true : undefined;
			},
			90_000,
			50,
		).catch((error: Error) => {
			throw new Error(`${error.message}\n${output()}`);
		});
		// source frame 0 first, then decoded x0 previews of the inversion and the edit: each a new
		// image (version) the card loaded, so the image changed at least twice during the job
		const loaded = seen.filter((card) => card.status === 'running' && card.previewWidth === 64);
		const changes = new Set(loaded.map((card) => `${card.previewStage}:${card.previewVersion}`));
		const trail = JSON.stringify(seen.map((c) => [c.stage, c.previewStage, c.previewVersion, c.previewWidth]));
		expect(loaded.some((card) => card.previewStage === 'invert'), trail).toBe(true);
		expect(loaded.some((card) => card.previewStage === 'edit'), trail).toBe(true);
		// two x0 images after the source frame: the image changed at least twice. How many more the
		// 5 % budget allows depends on the machine's preview-to-step cost ratio, so no more is asserted.
		expect(changes.size, trail).toBeGreaterThanOrEqual(2);
		await waitForEditedFrame(key);
	});

	it('binds Remotion Studio to loopback only', async () => {
		expect(stdout).toContain('Remotion Studio listens on 127.0.0.1 only');
		const port = new URL(studio).port;
		const addresses = Object.values(os.networkInterfaces())
			.flat()
			.filter((a) => a && !a.internal && a.family === 'IPv4')
			.map((a) => a!.address);
		expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBeLessThan(500);
		for (const address of addresses) await expect(fetch(`http://${address}:${port}/`, {signal: AbortSignal.timeout(3000)})).rejects.toThrow();
	});
});
