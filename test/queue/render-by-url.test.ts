import {existsSync} from 'node:fs';
import path from 'node:path';
import {renderStill, selectComposition} from '@remotion/renderer';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {FRAME_BASE_URL_ENV} from '../../plugin/clip/public-layout.js';
import {prerender} from '../../plugin/node/prerender.js';
import {loadRemotionProject} from '../../plugin/node/remotion-project.js';
import {resolveProjectSettings} from '../../plugin/project/project-settings.js';
import {startClipWorker, type ClipWorker} from '../../plugin/queue/clip-worker.js';
import {QueueCoordinator} from '../../plugin/queue/queue-coordinator.js';
import {parseQueueUrl} from '../../plugin/queue/queue-protocol.js';
import {openStore} from '../../plugin/store/open-store.js';
import {BROWSER, bundleDemo, demoProject, launchBrowser, readRgb, tempProject, testSettings, tinyClip, writeFrames} from '../remotion/remotion-test-helpers.js';
import {startS3Server, type S3TestServer} from '../store/s3-test-server.js';
import {startRedis, type RedisTestServer} from './redis-test-server.js';

// A render that reads its frames by URL from the S3 store (as one on Remotion Lambda would, with
// no public fatezero/ folder) shows exactly what the local render shows. The clip is computed by a
// worker through the queue; the coordinator publishes it locally and into the store's public tree.

const root = tempProject('queue-url');
const inputProps = {clip: tinyClip('frames', 'a red car on a road'), from: 0};
let redis: RedisTestServer;
let s3: S3TestServer;
let worker: ClipWorker;
let coordinator: QueueCoordinator;
let browser: Awaited<ReturnType<typeof launchBrowser>>;

beforeAll(async () => {
	[redis, s3] = await Promise.all([startRedis(), startS3Server()]);
	await writeFrames(path.join(root, 'frames'));
	const storeUrl = s3.storeUrl('renders');
	worker = await startClipWorker({queue: parseQueueUrl(redis.url), store: openStore(storeUrl), cacheDir: path.join(root, 'worker-cache'), model: {value: 'generated:tiny', origin: 'test'}});
	const settings = testSettings(root);
	const project = await demoProject(settings);
	coordinator = new QueueCoordinator({queue: parseQueueUrl(redis.url), store: openStore(storeUrl), cacheDir: settings.cacheDir.value, projectRoot: root, model: settings.model, publicDir: project.publicDir.value});
	await prerender({entryPoint: 'remotion/index.ts', compositionId: 'ClipInSequence', inputProps, settings, project, browserExecutable: BROWSER, queue: coordinator});
	browser = await launchBrowser();
}, 240_000);

afterAll(async () => {
	await browser?.close({silent: true});
	await coordinator?.close();
	await worker?.close();
	await redis?.stop();
	await s3?.close();
});

describe('a render that reads frames by URL from the S3 store', () => {
	it('equals the local render, frame for frame', async () => {
		const baseUrl = coordinator.frameBaseUrl!;
		expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/fatezero-test\/renders\/public$/);
		const local = await demoProject(testSettings(root));
		const remote = await loadRemotionProject(resolveProjectSettings({projectRoot: root, flags: {publicDir: path.join(root, 'empty-public'), frameBaseUrl: baseUrl}}), path.resolve('.'));
		expect(remote.envVariables[FRAME_BASE_URL_ENV]).toBe(baseUrl);
		const stills = async (project: typeof local) => {
			const serveUrl = await bundleDemo(project);
			const composition = await selectComposition({serveUrl, id: 'ClipInSequence', inputProps, envVariables: project.envVariables, puppeteerInstance: browser, logLevel: 'error'});
			const frames = [];
			// clip frames 0, 1, 2, 3 at 10 fps show at composition frames 0, 3, 6, 9 (30 fps)
			for (const frame of [0, 3, 6, 9]) {
				const {buffer} = await renderStill({composition, serveUrl, frame, inputProps, envVariables: project.envVariables, puppeteerInstance: browser, imageFormat: 'png', logLevel: 'error'});
				frames.push(await readRgb(buffer!));
			}
			return frames;
		};
		const [fromDisk, fromUrl] = [await stills(local), await stills(remote)];
		for (let i = 0; i < fromDisk.length; i++) expect(fromUrl[i].data.equals(fromDisk[i].data), `frame ${i * 3}`).toBe(true);
		// and the frames differ from each other (the clip really played)
		expect(fromDisk[0].data.equals(fromDisk[3].data)).toBe(false);
		// nothing to read on disk for the URL render: its public dir has no fatezero/ folder
		expect(existsSync(path.join(root, 'empty-public', 'fatezero'))).toBe(false);
	});
});
