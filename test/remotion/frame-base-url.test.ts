import {cpSync, readFileSync} from 'node:fs';
import {createServer, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import path from 'node:path';
import {renderStill, selectComposition} from '@remotion/renderer';
import sharp from 'sharp';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {FRAME_BASE_URL_ENV} from '../../plugin/clip/public-layout.js';
import {prerender} from '../../plugin/node/prerender.js';
import {loadRemotionProject} from '../../plugin/node/remotion-project.js';
import {resolveProjectSettings} from '../../plugin/project/project-settings.js';
import {BROWSER, bundleDemo, demoProject, launchBrowser, meanAbsDiff, readRgb, tempProject, testSettings, tinyClip, writeFrames} from './remotion-test-helpers.js';

// A bundle deployed elsewhere (Lambda, Cloud Run) has no public fatezero/ folder: it reads the
// frames from a URL. Here: the published folder copied to a local static server, and a bundle
// whose public dir is empty, rendering with REMOTION_FATEZERO_FRAME_BASE_URL set.

const root = tempProject('base-url');
const inputProps = {clip: tinyClip('frames', 'a red car on a road'), from: 0};
const requests: string[] = [];
let server: Server;
let baseUrl: string;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let editKey: string;

beforeAll(async () => {
	await writeFrames(path.join(root, 'frames'));
	const settings = testSettings(root);
	const project = await demoProject(settings);
	const result = await prerender({entryPoint: 'remotion/index.ts', compositionId: 'ClipInSequence', inputProps, settings, project, browserExecutable: BROWSER});
	editKey = result.clips[0].key;
	// "deploy": the published folder on a static server (CORS open, as a bucket or CDN would be)
	cpSync(path.join(root, 'public/fatezero'), path.join(root, 'cdn/fz'), {recursive: true});
	server = createServer((request, response) => {
		requests.push(request.url ?? '');
		const file = path.join(root, 'cdn', decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname));
		try {
			const body = readFileSync(file);
			response.writeHead(200, {'content-type': file.endsWith('.json') ? 'application/json' : 'image/png', 'access-control-allow-origin': '*'});
			response.end(body);
		} catch {
			response.writeHead(404, {'access-control-allow-origin': '*'}).end();
		}
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fz`;
	browser = await launchBrowser();
}, 240_000);

afterAll(async () => {
	await browser?.close({silent: true});
	server?.close();
});

describe('frames read from a frame base URL', () => {
	it('renders the clip from the URL with an empty public dir, and a clip-level frameBaseUrl works the same', async () => {
		const settings = resolveProjectSettings({projectRoot: root, flags: {publicDir: path.join(root, 'empty-public'), frameBaseUrl: `${baseUrl}/`}});
		expect(settings.frameBaseUrl.value).toBe(baseUrl);
		const project = await loadRemotionProject(settings, path.resolve('.'));
		expect(project.envVariables[FRAME_BASE_URL_ENV]).toBe(baseUrl);
		const serveUrl = await bundleDemo(project);
		const scaled = async (name: string) => readRgb(await sharp(path.join(root, 'cdn/fz/clips', editKey, name)).resize(128, 128).png().toBuffer());
		const expected = await scaled('00002.png');
		const otherFrame = await scaled('00000.png');
		for (const [label, props, env] of [
			['REMOTION_FATEZERO_FRAME_BASE_URL', inputProps, project.envVariables],
			['clip.frameBaseUrl', {...inputProps, clip: {...inputProps.clip, frameBaseUrl: baseUrl}}, {}],
		] as const) {
			requests.length = 0;
			const composition = await selectComposition({serveUrl, id: 'ClipInSequence', inputProps: props, envVariables: env, puppeteerInstance: browser, logLevel: 'error'});
			// clip frame 2 at 10 fps shows at composition frame 6 (30 fps)
			const {buffer} = await renderStill({composition, serveUrl, frame: 6, inputProps: props, envVariables: env, puppeteerInstance: browser, imageFormat: 'png', logLevel: 'error'});
			const shown = await readRgb(buffer!);
			// the browser's scaling differs from sharp's; another frame of the clip is much further off
			expect(meanAbsDiff(shown, expected), label).toBeLessThan(12);
			expect(meanAbsDiff(shown, otherFrame), label).toBeGreaterThan(2 * meanAbsDiff(shown, expected));
			expect(requests, label).toContain(`/fz/clips/${editKey}/00002.png`);
		}
	});
});
