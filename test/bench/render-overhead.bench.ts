/**
 * What <FateZeroClip> costs at render time: `npm run bench:render [-- --runs 3 --size 256 ...]`.
 *
 * Renders RenderBenchEdited (120 frames, two edited clips side by side through <FateZeroClip>)
 * and RenderBenchPlain (the same cached PNG files as plain <Img src={staticFile(…)}/> image
 * sequences, same layout and frame mapping) with the same bundle, the same browser and the same
 * concurrency. The clips are prerendered first with the tiny random-weight model (untimed); each
 * composition gets a warm-up render, then the timed renders alternate between the two.
 * The budget: edited ≤ 1.3 × plain. Prints a table, then the figures as one JSON object on the
 * last line for comparing commits.
 */
import {mkdirSync, mkdtempSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {parseArgs} from 'node:util';
import {openBrowser, renderMedia, selectComposition} from '@remotion/renderer';
import sharp from 'sharp';
import {RENDER_BENCH_FRAMES} from '../../compositions/render-bench.js';
import {descriptorKey} from '../../plugin/clip/descriptor-key.js';
import {fateZeroClip} from '../../plugin/clip/fatezero-clip.js';
import {resolveCompositorBinaries} from '../../plugin/media/compositor-binaries.js';
import {runMediaTool} from '../../plugin/media/run-media-tool.js';
import {resolveBrowserExecutable} from '../../plugin/node/browser-executable.js';
import {bundleProject} from '../../plugin/node/bundle-project.js';
import {loadRemotionProject} from '../../plugin/node/remotion-project.js';
import {GENERATED_TINY_MODEL, resolveProjectSettings} from '../../plugin/project/project-settings.js';
import {prerender} from '../../plugin/node/prerender.js';
import {median, round, seconds} from './bench-stats.js';

const BUDGET = 1.3;
const ENTRY = path.resolve('remotion/index.ts');

const USAGE = `Usage: npm run bench:render -- [options]
  --runs N           timed renders per composition, alternating (median reported; default 3)
  --size N           clip size in pixels, a multiple of 64 (default 256: each half of the 512×256 frame shows its clip 1:1)
  --clip-frames N    frames per clip (default 8; the clips loop over the 120 composition frames)
  --concurrency N    frames rendered in parallel (default: Remotion's)
  --browser-executable PATH   default /usr/bin/chromium when present
  --keep             keep the temp project (frames, cache, outputs) and print its path`;

const {values: flags} = parseArgs({
	options: {
		runs: {type: 'string', default: '3'},
		size: {type: 'string', default: '256'},
		'clip-frames': {type: 'string', default: '8'},
		concurrency: {type: 'string'},
		'browser-executable': {type: 'string'},
		keep: {type: 'boolean', default: false},
		help: {type: 'boolean', default: false},
	},
});
if (flags.help) {
	console.log(USAGE);
	process.exit(0);
}
const positiveInt = (name: string, value: string): number => {
	const n = Number(value);
	if (!Number.isInteger(n) || n < 1) {
		console.error(`--${name}: ${JSON.stringify(value)} is not an integer ≥ 1.\n${USAGE}`);
		process.exit(2);
	}
	return n;
};
const runs = positiveInt('runs', flags.runs);
const size = positiveInt('size', flags.size);
const clipFrames = positiveInt('clip-frames', flags['clip-frames']);
const concurrency = flags.concurrency === undefined ? null : positiveInt('concurrency', flags.concurrency);
if (size % 64 !== 0) {
	console.error(`--size: ${size} is not a multiple of 64.\n${USAGE}`);
	process.exit(2);
}
const browserExecutable = resolveBrowserExecutable(flags['browser-executable']);

const benchStart = performance.now();
const root = mkdtempSync(path.join(os.tmpdir(), 'fatezero-bench-render-'));
const cacheDir = path.join(root, 'cache');
mkdirSync(cacheDir, {recursive: true});

// Source frames: moving gradients, so the edited clips are not flat.
const framesDir = path.join(root, 'frames');
mkdirSync(framesDir, {recursive: true});
for (let f = 0; f < clipFrames; f++) {
	const rgb = Buffer.alloc(size * size * 3);
	for (let y = 0; y < size; y++) {
		for (let x = 0; x < size; x++) {
			const p = (y * size + x) * 3;
			rgb[p] = ((x * 256) / size + f * 20) & 255;
			rgb[p + 1] = ((y * 256) / size) & 255;
			rgb[p + 2] = (((x + y) * 128) / size + f * 11) & 255;
		}
	}
	await sharp(rgb, {raw: {width: size, height: size, channels: 3}})
		.png()
		.toFile(path.join(framesDir, `${String(f).padStart(5, '0')}.png`));
}

// Two edits of one source (one inversion), on the generated tiny model: only the display matters here.
const clip = (prompt: string) => fateZeroClip({source: framesDir, sourcePrompt: 'a jeep on a road', prompt, size, frames: {count: clipFrames}, steps: 3, leastScChannel: 64});
const editedProps = {left: clip('a red jeep on a road'), right: clip('a jeep on a snowy road')};

let t = performance.now();
const settings = resolveProjectSettings({projectRoot: root, flags: {model: GENERATED_TINY_MODEL, cacheDir, publicDir: path.join(root, 'public')}});
const project = await loadRemotionProject({...settings, projectRoot: path.resolve('.')});
mkdirSync(project.publicDir.value, {recursive: true});
const serveUrl = await bundleProject(ENTRY, project);
const bundleMs = performance.now() - t;
t = performance.now();
const prepared = await prerender({entryPoint: ENTRY, compositionId: 'RenderBenchEdited', inputProps: editedProps, settings, project, serveUrl, browserExecutable});
const prerenderMs = performance.now() - t;
const entryOf = (descriptor: typeof editedProps.left) => {
	const found = prepared.clips.find((c) => c.descriptorKey === descriptorKey(descriptor));
	if (!found) throw new Error(`prerender did not return the clip "${descriptor.prompt}"`);
	return {dir: `fatezero/clips/${found.key}`, frameCount: found.manifest.frameCount!, fps: found.manifest.fps!};
};
const plainProps = {left: entryOf(editedProps.left), right: entryOf(editedProps.right)};

const browser = await openBrowser('chrome', {browserExecutable, logLevel: 'error'});
const kinds = {
	edited: {id: 'RenderBenchEdited', inputProps: editedProps as Record<string, unknown>},
	plain: {id: 'RenderBenchPlain', inputProps: plainProps as Record<string, unknown>},
};
type Kind = keyof typeof kinds;
const compositions = {
	edited: await selectComposition({serveUrl, id: kinds.edited.id, inputProps: kinds.edited.inputProps, puppeteerInstance: browser, logLevel: 'error'}),
	plain: await selectComposition({serveUrl, id: kinds.plain.id, inputProps: kinds.plain.inputProps, puppeteerInstance: browser, logLevel: 'error'}),
};
const output = (kind: Kind) => path.join(root, `${kind}.mp4`);
const render = async (kind: Kind): Promise<number> => {
	const started = performance.now();
	await renderMedia({
		composition: compositions[kind],
		serveUrl,
		codec: 'h264',
		outputLocation: output(kind),
		inputProps: kinds[kind].inputProps,
		puppeteerInstance: browser,
		concurrency,
		overwrite: true,
		logLevel: 'error',
	});
	return performance.now() - started;
};

const warmup = {edited: await render('edited'), plain: await render('plain')};
const timed: Record<Kind, number[]> = {edited: [], plain: []};
for (let r = 0; r < runs; r++) {
	// alternate which goes first, so a drift in machine load hits both alike
	const order: Kind[] = r % 2 === 0 ? ['edited', 'plain'] : ['plain', 'edited'];
	for (const kind of order) timed[kind].push(await render(kind));
}
await browser.close({silent: true});

// Both outputs must show the same pictures, or the comparison means nothing.
const decodeFrame = async (file: string, index: number): Promise<Buffer> => {
	const {ffmpeg} = resolveCompositorBinaries();
	const run = await runMediaTool(ffmpeg, ['-v', 'error', '-i', file, '-vf', `trim=start_frame=${index}:end_frame=${index + 1}`, '-frames:v', '1', '-f', 'image2pipe', '-vcodec', 'png', '-']);
	if (run.code !== 0) throw new Error(`ffmpeg could not decode frame ${index} of ${file}: ${run.stderr}`);
	return sharp(run.stdout).removeAlpha().raw().toBuffer();
};
const checkedFrames = [0, 47, RENDER_BENCH_FRAMES - 1];
let samePictures = 0;
for (const index of checkedFrames) {
	const [a, b] = await Promise.all([decodeFrame(output('edited'), index), decodeFrame(output('plain'), index)]);
	let sum = 0;
	for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
	samePictures = Math.max(samePictures, sum / a.length);
}

const editedMs = median(timed.edited);
const plainMs = median(timed.plain);
const ratio = editedMs / plainMs;
const frames = compositions.edited.durationInFrames;
const list = (values: number[]) => values.map((v) => Math.round(v)).join(', ');
const row = (kind: Kind) =>
	[kind.padEnd(8), compositions[kind].id.padEnd(18), String(Math.round(median(timed[kind]))).padStart(10), String(round(frames / (median(timed[kind]) / 1000))).padStart(7), `  ${Math.round(warmup[kind])} | ${list(timed[kind])}`].join(' ');
const lines = [
	'',
	`Render overhead of <FateZeroClip>: ${frames} frames, ${compositions.edited.width}×${compositions.edited.height} at ${compositions.edited.fps} fps, two ${size}² clips of ${clipFrames} frames (looped), h264`,
	`node ${process.version} · ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}) · browser ${browserExecutable ?? 'Remotion default'} · concurrency ${concurrency ?? "Remotion's default"} · one bundle, one browser`,
	`untimed: bundle ${seconds(bundleMs)} s, prerender ${seconds(prerenderMs)} s (${prepared.clips.map((c) => c.status).join(', ')})`,
	'',
	['kind'.padEnd(8), 'composition'.padEnd(18), 'median ms'.padStart(10), 'fps'.padStart(7), '  warm-up ms | timed ms'].join(' '),
	row('edited'),
	row('plain'),
	'',
	`edited / plain = ${round(ratio, 3)} (median of ${runs}) → budget ≤ ${BUDGET}× ${ratio <= BUDGET ? 'met' : 'NOT met'}`,
	`same pictures: mean abs difference between the two outputs ≤ ${round(samePictures, 3)} (0…255) at frames ${checkedFrames.join(', ')}`,
	flags.keep ? `kept ${root} and the bundle ${serveUrl}` : `total ${seconds(performance.now() - benchStart)} s`,
];
console.log(lines.join('\n'));
if (!flags.keep) {
	rmSync(root, {recursive: true, force: true});
	rmSync(serveUrl, {recursive: true, force: true});
}
console.log(
	JSON.stringify({
		edited_vs_plain: round(ratio, 3),
		edited_ms: round(editedMs),
		plain_ms: round(plainMs),
		frames,
		runs,
		clip_size: size,
		clip_frames: clipFrames,
		concurrency,
		edited_runs_ms: timed.edited.map((v) => round(v)),
		plain_runs_ms: timed.plain.map((v) => round(v)),
		budget: BUDGET,
		budget_met: ratio <= BUDGET,
		outputs_mean_abs_diff: round(samePictures, 3),
	}),
);
