// `npm run demo`: renders the demo project's FateZeroShowcase to out/showcase.mp4 on a fresh
// machine. It first renders its own source footage with Remotion (DemoSource), so nothing has
// to be downloaded; with no model configured it edits with the generated tiny model and says so.
import {existsSync, mkdirSync} from 'node:fs';
import path from 'node:path';
import {renderMedia, selectComposition} from '@remotion/renderer';
import {bundleProject, renderWithFateZero, resolveBrowserExecutable, resolveCacheDir} from '../plugin/node.js';
import {createProgressDisplay} from '../plugin/cli/progress-display.js';
import {DEMO_SOURCE} from '../compositions/demo-clips.js';

const root = path.resolve(import.meta.dirname, '..');
const entryPoint = path.join(root, 'remotion/index.ts');
const cacheDir = resolveCacheDir();
const browserExecutable = resolveBrowserExecutable();
const output = path.join(root, 'out/showcase.mp4');
const started = performance.now();
const model = process.env.FATEZERO_MODEL;

console.log(
	model
		? `Model: ${model} (FATEZERO_MODEL)`
		: 'No model configured: the demo edits with the tiny random-weight model the project generates, so the edited clips are noise-like.\nSet FATEZERO_MODEL=/path/to/stable-diffusion-v1-5 (diffusers layout, safetensors) for real edits.',
);
mkdirSync(path.join(root, 'out'), {recursive: true});
const serveUrl = await bundleProject(entryPoint, cacheDir);

// 1. the source footage, rendered by Remotion itself
const source = path.join(root, DEMO_SOURCE);
if (!existsSync(source)) {
	console.log(`Rendering the demo's source footage to ${DEMO_SOURCE} …`);
	const composition = await selectComposition({serveUrl, id: 'DemoSource', browserExecutable, logLevel: 'error'});
	await renderMedia({composition, serveUrl, codec: 'h264', outputLocation: source, browserExecutable, logLevel: 'error'});
}

// 2. pre-render the edited clips, then the showcase
const display = createProgressDisplay();
const note = model ? `edited with ${path.basename(model)}` : 'tiny random-weight model: edits are noise-like';
const result = await renderWithFateZero({
	entryPoint,
	serveUrl,
	compositionId: 'FateZeroShowcase',
	outputLocation: output,
	inputProps: {note},
	cacheDir,
	projectRoot: root,
	browserExecutable,
	onProgress: display.update,
	onRenderProgress: (progress) => display.update({job: 'render', stage: 'done', step: Math.round(progress * 100), total: 100, etaSeconds: null}),
});
for (const clip of result.clips) console.log(`clip ${clip.descriptor.label}: ${clip.status} (${clip.path})`);
console.log(`Rendered ${path.relative(root, output)} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
