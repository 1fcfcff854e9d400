// `npm run demo`: renders the demo project's FateZeroShowcase to out/showcase.mp4 on a fresh
// machine. It first renders its own source footage with Remotion (DemoSource), so nothing has
// to be downloaded. Without FATEZERO_MODEL it opts in to the generated tiny model explicitly
// (--model generated:tiny) and says so: its edits are noise.
import {existsSync, mkdirSync, rmSync} from 'node:fs';
import path from 'node:path';
import {renderMedia, selectComposition} from '@remotion/renderer';
import {bundleProject, loadRemotionProject, renderWithFateZero, resolveBrowserExecutable, resolveProjectSettings, GENERATED_TINY_MODEL} from '../plugin/node.js';
import {createProgressDisplay} from '../plugin/cli/progress-display.js';
import {printSettings} from '../plugin/cli/settings-flags.js';
import {DEMO_SOURCE} from '../compositions/demo-clips.js';

const root = path.resolve(import.meta.dirname, '..');
const entryPoint = 'remotion/index.ts';
const settings = resolveProjectSettings({projectRoot: root, flags: process.env.FATEZERO_MODEL ? {} : {model: GENERATED_TINY_MODEL}});
const project = await loadRemotionProject(settings);
const browserExecutable = resolveBrowserExecutable(project.browserExecutable);
const output = path.join(root, 'out/showcase.mp4');
const started = performance.now();
const generated = settings.model.value === GENERATED_TINY_MODEL;

printSettings(settings, project);
if (generated) console.log('No FATEZERO_MODEL: the demo edits with the generated tiny random-weight model, so the edited clips are noise.\nSet FATEZERO_MODEL=/path/to/stable-diffusion-v1-5 (diffusers layout, safetensors) for real edits.');
mkdirSync(path.join(root, 'out'), {recursive: true});

// 1. the source footage, rendered by Remotion itself
const source = path.join(root, DEMO_SOURCE);
if (!existsSync(source)) {
	console.log(`Rendering the demo's source footage to ${DEMO_SOURCE} …`);
	const serveUrl = await bundleProject(entryPoint, project);
	try {
		const composition = await selectComposition({serveUrl, id: 'DemoSource', browserExecutable, logLevel: 'error'});
		await renderMedia({composition, serveUrl, codec: 'h264', outputLocation: source, browserExecutable, logLevel: 'error'});
	} finally {
		rmSync(serveUrl, {recursive: true, force: true});
	}
}

// 2. pre-render the edited clips (published into public/fatezero/), then the showcase
const display = createProgressDisplay();
const note = generated ? 'generated random-weight model: edits are noise' : `edited with ${path.basename(settings.model.value!)}`;
const result = await renderWithFateZero({
	entryPoint,
	compositionId: 'FateZeroShowcase',
	outputLocation: output,
	inputProps: {note},
	settings,
	project,
	browserExecutable,
	onProgress: display.update,
	onRenderProgress: (progress) => display.update({job: 'render', stage: 'done', step: Math.round(progress * 100), total: 100, etaSeconds: null}),
});
for (const clip of result.clips) console.log(`clip ${clip.descriptor.label}: ${clip.status}${clip.generatedModel ? ' (generated model: noise)' : ''} → ${clip.publicPath}`);
console.log(`Rendered ${path.relative(root, output)} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
