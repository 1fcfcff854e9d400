import {mkdirSync, mkdtempSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {openBrowser} from '@remotion/renderer';
import sharp from 'sharp';
import {afterAll} from 'vitest';
import {resolveCompositorBinaries} from '../../plugin/media/compositor-binaries.js';
import {runMediaTool} from '../../plugin/media/run-media-tool.js';
import {bundleProject} from '../../plugin/node/bundle-project.js';
import {loadRemotionProject, type RemotionProject} from '../../plugin/node/remotion-project.js';
import {GENERATED_TINY_MODEL, resolveProjectSettings, type ProjectSettings} from '../../plugin/project/project-settings.js';

/** The demo project's entry: ClipInSequence and the bench compositions live in its root. */
export const ENTRY = path.resolve('remotion/index.ts');
export const BROWSER = '/usr/bin/chromium';

/** A temp project root (frames, cache, outputs), removed after the file's tests. */
export const tempProject = (label: string): string => {
	const dir = mkdtempSync(path.join(os.tmpdir(), `fatezero-remotion-${label}-`));
	afterAll(() => rmSync(dir, {recursive: true, force: true}));
	return dir;
};

export {writeFrames} from '../helpers/synthetic-frames.js';

/** A clip small enough for a test: 4 frames of 64², 3 steps, reference-frame attention on every level (the tiny model). */
export const tinyClip = (source: string, prompt: string, overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
	source,
	sourcePrompt: 'a jeep on a road',
	prompt,
	size: 64,
	frames: {count: 4},
	steps: 3,
	leastScChannel: 64,
	...overrides,
});

// Bundles are ~30 MB each in the OS temp dir: removed after the file's tests (their public dir
// is a symlink to the cache, which rm unlinks without entering).
const bundles: string[] = [];
afterAll(() => {
	for (const dir of bundles) rmSync(dir, {recursive: true, force: true});
});

/** Settings of a temp project `root`: store root/cache, public dir root/public, the generated model (opted in). */
export const testSettings = (root: string): ProjectSettings =>
	resolveProjectSettings({projectRoot: root, flags: {model: GENERATED_TINY_MODEL, cacheDir: path.join(root, 'cache'), publicDir: path.join(root, 'public')}});

/** The demo project's Remotion config (this repository's remotion.config.ts) with the temp project's public dir. */
export const demoProject = (settings: ProjectSettings): Promise<RemotionProject> => loadRemotionProject({...settings, projectRoot: path.resolve('.')});

/** Bundles the demo project with the temp project's public dir (symlinked; created first). */
export const bundleDemo = async (project: RemotionProject): Promise<string> => {
	mkdirSync(project.publicDir.value, {recursive: true});
	const serveUrl = await bundleProject(ENTRY, project);
	bundles.push(serveUrl);
	return serveUrl;
};

export const launchBrowser = () => openBrowser('chrome', {browserExecutable: BROWSER, logLevel: 'error'});

export type Rgb = {data: Buffer; width: number; height: number};

/** An image file (or encoded buffer) as 8-bit RGB. */
export const readRgb = async (input: string | Buffer): Promise<Rgb> => {
	const {data, info} = await sharp(input).removeAlpha().raw().toBuffer({resolveWithObject: true});
	return {data, width: info.width, height: info.height};
};

export const blackRgb = (width: number, height: number): Rgb => ({data: Buffer.alloc(width * height * 3), width, height});

/** Mean absolute difference per channel value, in 0…255. */
export const meanAbsDiff = (a: Rgb, b: Rgb): number => {
	if (a.width !== b.width || a.height !== b.height) throw new Error(`size mismatch: ${a.width}×${a.height} vs ${b.width}×${b.height}`);
	let sum = 0;
	for (let i = 0; i < a.data.length; i++) sum += Math.abs(a.data[i] - b.data[i]);
	return sum / a.data.length;
};

/** Frame `index` of a video, decoded by Remotion's own ffmpeg (its build has `trim` but no `select`). */
export const decodeVideoFrame = async (file: string, index: number): Promise<Rgb> => {
	const {ffmpeg} = resolveCompositorBinaries();
	const run = await runMediaTool(ffmpeg, ['-v', 'error', '-i', path.resolve(file), '-vf', `trim=start_frame=${index}:end_frame=${index + 1}`, '-frames:v', '1', '-f', 'image2pipe', '-vcodec', 'png', '-']);
	if (run.code !== 0 || run.stdout.length === 0) throw new Error(`ffmpeg could not decode frame ${index} of ${file}: ${run.stderr}`);
	return readRgb(run.stdout);
};

/** The clip frame shown at composition frame `frame` of ClipInSequence: floor((frame − from) · clipFps / compFps), held at the end. */
export const expectedClipFrame = (frame: number, from: number, compFps: number, clipFps: number, frameCount: number): number | null =>
	frame < from ? null : Math.min(Math.floor(((frame - from) * clipFps) / compFps), frameCount - 1);

export const framePath = (cacheDir: string, editKey: string, index: number): string => path.join(cacheDir, 'clips', editKey, `${String(index).padStart(5, '0')}.png`);
