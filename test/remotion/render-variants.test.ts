import {spawn} from 'node:child_process';
import {existsSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import {afterEach, beforeAll, describe, expect, it, vi} from 'vitest';
import {renderCommand} from '../../plugin/cli/render-command.js';
import {variantRenderOptions} from '../../plugin/cli/variant-render-flags.js';
import {isFateZeroError} from '../../plugin/errors/fatezero-error.js';
import {resolveCompositorBinaries} from '../../plugin/media/compositor-binaries.js';
import {probeVideo} from '../../plugin/media/probe-video.js';
import {parseVariants} from '../../plugin/node/parse-variants.js';
import {renderVariants, type VariantProgress, type VariantResult} from '../../plugin/node/render-variants.js';
import type {RemotionProject} from '../../plugin/node/remotion-project.js';
import {BROWSER, bundleDemo, decodeVideoFrame, demoProject, testSettings, ENTRY, meanAbsDiff, readRgb, tempProject, tinyClip, writeFrames} from './remotion-test-helpers.js';

// `fatezero render <entry> <composition> --variants FILE --out-dir DIR`: three prompts on one
// source render three different videos from ONE inversion, with a manifest; every variant is
// validated before any engine job; --fail-fast stops at the first failed variant.

const root = tempProject('variants');
const cacheDir = path.join(root, 'cache');
const publicDir = path.join(root, 'public');
const frames = path.join(root, 'frames');
const engineLog = path.join(root, 'engine.log');
const bin = path.resolve('bin/fatezero.js');

afterEach(() => {
	vi.restoreAllMocks();
	vi.unstubAllEnvs();
});

beforeAll(async () => {
	await writeFrames(frames);
});

type EngineRun = {pid: number; kind: 'invert' | 'edit'; key: string};
const engineRuns = (file: string): EngineRun[] =>
	existsSync(file)
		? readFileSync(file, 'utf8')
				.split('\n')
				.filter(Boolean)
				.map((line) => JSON.parse(line) as EngineRun)
		: [];

// Absolute sources: the CLI resolves relative ones against its working directory.
const variant = (name: string, prompt: string, extra: Record<string, unknown> = {}) => ({name, props: {clip: tinyClip(frames, prompt), ...extra}});
const VARIANTS = [variant('red', 'a red car on a road'), variant('snowy', 'a jeep on a snowy road'), variant('night', 'a jeep on a road at night', {from: 0})];

describe('parseVariants', () => {
	it('takes an array or {variants}, with props defaulting to {}', () => {
		expect(parseVariants([{name: 'a', props: {x: 1}}, {name: 'b'}])).toEqual([
			{name: 'a', props: {x: 1}},
			{name: 'b', props: {}},
		]);
		expect(parseVariants({variants: [{name: 'a.b_c-1', props: {}}]})).toEqual([{name: 'a.b_c-1', props: {}}]);
	});

	it('reports every problem of every variant in one error', () => {
		let message = '';
		try {
			parseVariants([{name: 'ok', props: {}}, {name: 'OK', props: {}}, {name: '../escape', props: {}}, {name: '.hidden'}, {name: 'p', props: [1]}, {name: 'typo', prop: {}}, 'just a string', {props: {}}], 'variants.json');
		} catch (error) {
			expect(isFateZeroError(error, 'INVALID_INPUT')).toBe(true);
			message = (error as Error).message;
		}
		expect(message).toContain('variants.json is invalid; nothing was rendered. Fix these 7 problems');
		expect(message).toContain('variant 2: name "OK" is already used by variant 1 (names must be unique, ignoring case)');
		expect(message).toContain('variant 3: "name" must be a file-safe name');
		expect(message).toContain('got "../escape"');
		expect(message).toContain('got ".hidden"');
		expect(message).toContain('variant 5 ("p"): "props" must be a JSON object of composition props; got an array');
		expect(message).toContain('variant 6 has unknown key "prop"');
		expect(message).toContain('variant 7 must be an object {"name", "props"}; got string "just a string"');
		expect(message).toContain('variant 8: "name" must be a file-safe name');
	});

	it('rejects what is not a list, and an empty list', () => {
		expect(() => parseVariants({name: 'a'})).toThrow('must be a JSON array of {"name", "props"} objects');
		expect(() => parseVariants([])).toThrow('lists no variants');
	});
});

describe('fatezero render --variants: arguments', () => {
	const rejects = async (args: string[], text: string) => {
		const error = await renderCommand(args).then(
			() => null,
			(e: unknown) => e,
		);
		expect(isFateZeroError(error, 'INVALID_OPTION'), String(error)).toBe(true);
		expect((error as Error).message).toContain(text);
	};

	it('needs --out-dir, takes two positionals, and keeps --out-dir/--fail-fast for batches', async () => {
		const file = path.join(root, 'args-variants.json');
		writeFileSync(file, JSON.stringify(VARIANTS));
		await rejects(['remotion/index.ts', 'ClipInSequence', '--variants', file], '--variants needs --out-dir DIR');
		await rejects(['remotion/index.ts', 'ClipInSequence', 'out.mp4', '--variants', file, '--out-dir', root], 'takes <entry> <composition> (outputs go to --out-dir); got 3');
		await rejects(['remotion/index.ts', 'ClipInSequence', 'out.mp4', '--out-dir', root], '--out-dir and --fail-fast belong to --variants batches');
		await rejects(['remotion/index.ts', 'ClipInSequence', '--variants', path.join(root, 'nope.json'), '--out-dir', root], 'does not exist');
	});

	it('checks the Remotion render flags before any work: even before reading the variants file', async () => {
		const outDir = path.join(root, 'bad-flags');
		const args = ['remotion/index.ts', 'ClipInSequence', '--variants', path.join(root, 'nope.json'), '--out-dir', outDir];
		await rejects([...args, '--scale', '0'], '--scale must be a number above 0 and at most 16 (0.5 renders at half the width and height); got 0.');
		await rejects([...args, '--frames', 'x'], '--frames must be a frame ("5"), a range ("0-9"), a range to the end ("10-") or ordered ranges ("0-9,20-29") of whole frame numbers ≥ 0; got "x".');
		await rejects([...args, '--crf', '60'], '--crf must be between 1 and 51 for codec h264');
		await rejects([...args, '--pixel-format', 'yuva420p', '--codec', 'vp9'], '--pixel-format yuva420p (transparent) needs --image-format png');
		// the API checks the same before it bundles or creates the out dir
		const error = await renderVariants({entryPoint: ENTRY, compositionId: 'ClipInSequence', variants: VARIANTS, outDir, scale: 0}).then(
			() => null,
			(e: unknown) => e as Error,
		);
		expect(isFateZeroError(error, 'INVALID_OPTION'), String(error)).toBe(true);
		expect(error!.message).toContain('--scale must be a number above 0 and at most 16');
		expect(existsSync(outDir)).toBe(false);
	});
});

describe('fatezero render --variants: three prompts on one source', () => {
	const outDir = path.join(root, 'out');
	let exit: {code: number | null; stdout: string; stderr: string; ms: number};

	beforeAll(async () => {
		const file = path.join(root, 'variants.json');
		writeFileSync(file, JSON.stringify({variants: VARIANTS}, null, 2));
		const started = performance.now();
		exit = await new Promise((resolve) => {
			const env: NodeJS.ProcessEnv = {...process.env, FATEZERO_ENGINE_LOG: engineLog};
			env.FATEZERO_MODEL = 'generated:tiny'; // the tests opt in to the generated model
			delete env.FATEZERO_CACHE_DIR;
			const child = spawn(process.execPath, [bin, 'render', ENTRY, 'ClipInSequence', '--variants', file, '--out-dir', outDir, '--cache-dir', cacheDir, '--public-dir', publicDir, '--browser-executable', BROWSER, '--json'], {env, stdio: ['ignore', 'pipe', 'pipe']});
			let stdout = '';
			let stderr = '';
			child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
			child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
			child.on('close', (code) => resolve({code, stdout, stderr, ms: performance.now() - started}));
		});
		console.log(`fatezero render --variants (3 variants, cold cache): exit ${exit.code} in ${(exit.ms / 1000).toFixed(1)} s\n${exit.stdout.split('\n').slice(0, -1).join('\n')}`);
	}, 240_000);

	const manifest = () => JSON.parse(readFileSync(path.join(outDir, 'manifest.json'), 'utf8')) as {ok: boolean; compositionId: string; variants: VariantResult[]};

	it('exits 0 with a table and a JSON summary whose rows are the manifest rows', () => {
		expect(exit.code, exit.stderr.slice(-3000)).toBe(0);
		const lines = exit.stdout.trim().split('\n');
		expect(lines[0]).toMatch(/^variant\s+output\s+status\s+hits\s+misses\s+jobs\s+render\s+time$/);
		for (const name of ['red', 'snowy', 'night']) expect(exit.stdout).toMatch(new RegExp(`^${name}\\s+\\S+${name}\\.mp4\\s+rendered\\s+0\\s+1\\s`, 'm'));
		const summary = JSON.parse(lines.at(-1)!) as {ok: boolean; variants: VariantResult[]};
		expect(summary.ok).toBe(true);
		expect(summary.variants).toEqual(manifest().variants);
	});

	it('ran one inversion and three edits', () => {
		const runs = engineRuns(engineLog);
		expect(runs.filter((r) => r.kind === 'invert')).toHaveLength(1);
		expect(runs.filter((r) => r.kind === 'edit')).toHaveLength(3);
	});

	it('wrote three outputs and manifest.json rows: status, cache hits/misses, shared inversion, times', () => {
		expect(readdirSync(outDir).sort()).toEqual(['manifest.json', 'night.mp4', 'red.mp4', 'snowy.mp4']);
		const {ok, compositionId, variants} = manifest();
		expect({ok, compositionId}).toEqual({ok: true, compositionId: 'ClipInSequence'});
		expect(variants.map((row) => [row.variant, row.file, row.output, row.status, row.cacheHits, row.cacheMisses, row.error])).toEqual(
			['red', 'snowy', 'night'].map((name) => [name, `${name}.mp4`, path.join(outDir, `${name}.mp4`), 'rendered', 0, 1, null]),
		);
		// the first variant computed the inversion, the others found it cached
		expect(variants.map((row) => row.clips[0].inversion)).toEqual(['computed', 'hit', 'hit']);
		for (const row of variants) {
			expect(row.clips).toHaveLength(1);
			expect(row.renderMs).toBeGreaterThan(0);
			expect(row.timeMs).toBe(row.jobsMs + row.renderMs);
		}
		expect(new Set(variants.map((row) => row.clips[0].key)).size).toBe(3);
	});

	it('each output shows its own edit: the decoded frames differ where the prompts differ', async () => {
		const {variants} = manifest();
		// frame 15 shows clip frame 3 in red/snowy (from 6) and the held last frame in night (from 0)
		const decoded = await Promise.all(variants.map((row) => decodeVideoFrame(row.output, 15)));
		for (let a = 0; a < 3; a++) for (let b = a + 1; b < 3; b++) expect(meanAbsDiff(decoded[a], decoded[b]), `${variants[a].variant} vs ${variants[b].variant}`).toBeGreaterThan(10);
		// …and so do the cached clips
		const pngs = variants.map((row) => readFileSync(path.join(cacheDir, 'clips', row.clips[0].key, '00003.png')));
		for (let a = 0; a < 3; a++) for (let b = a + 1; b < 3; b++) expect(pngs[a].equals(pngs[b])).toBe(false);
		// "night" overrides `from` (shallow merge over the default props); the others keep from = 6
		const first = await Promise.all(variants.map((row) => decodeVideoFrame(row.output, 0)));
		const black = {data: Buffer.alloc(first[0].data.length), width: first[0].width, height: first[0].height};
		expect(first.map((frame) => meanAbsDiff(frame, black) < 2)).toEqual([true, true, false]);
		// the cached clip frame, scaled like the composition, is what the video shows at frame 15
		const expected = await readRgb(await sharp(pngs[2]).resize(128, 128).png().toBuffer());
		expect(meanAbsDiff(decoded[2], expected)).toBeLessThan(25);
	});

	it('streams --json progress on stderr: clip jobs and every variant queued, rendering and rendered', () => {
		const events = exit.stderr
			.split('\n')
			.filter((line) => line.startsWith('{'))
			.map((line) => JSON.parse(line) as Record<string, unknown>);
		const variantEvents = events.filter((e) => typeof e.variant === 'string') as VariantProgress[];
		for (const name of ['red', 'snowy', 'night']) {
			const own = variantEvents.filter((e) => e.variant === name).map((e) => e.stage);
			expect(own[0]).toBe('queued');
			expect(own).toContain('rendering');
			expect(own.at(-1)).toBe('rendered');
		}
		const rendering = variantEvents.find((e) => e.stage === 'rendering' && e.step === e.total);
		expect(rendering?.total).toBe(30);
		const jobs = events.filter((e) => typeof e.job === 'string');
		expect(jobs.filter((e) => e.stage === 'invert').length).toBeGreaterThan(0);
		expect(jobs.filter((e) => e.stage === 'done')).toHaveLength(3);
	});
});

describe('renderVariants: validation before work, --fail-fast', () => {
	let serveUrl: string;
	let project: RemotionProject;
	const settings = testSettings(root);
	beforeAll(async () => {
		project = await demoProject(settings);
		serveUrl = await bundleDemo(project);
	}, 120_000);

	it('validates every variant (merged over the default props) before any engine job or render', async () => {
		const log = path.join(root, 'validation-engine.log');
		vi.stubEnv('FATEZERO_ENGINE_LOG', log);
		const outDir = path.join(root, 'invalid-out');
		const variants = [
			variant('fine', 'a blue car on a road'),
			{name: 'bad-steps', props: {clip: tinyClip(frames, 'a car', {steps: 0})}},
			{name: 'bad-edit', props: {clip: tinyClip(frames, 'a car', {edit: {blendThreshold: 'high'}})}},
			variant('fine-too', 'a green car on a road'),
		];
		const error = await renderVariants({entryPoint: ENTRY, compositionId: 'ClipInSequence', variants, outDir, settings, project, serveUrl, browserExecutable: BROWSER}).then(
			() => null,
			(e: unknown) => e as Error,
		);
		expect(isFateZeroError(error, 'INVALID_INPUT'), String(error)).toBe(true);
		expect(error!.message).toContain('2 of 4 variants are invalid; nothing was computed or rendered');
		expect(error!.message).toContain('variant "bad-steps": Invalid clip descriptor in props.clip: steps');
		expect(error!.message).toContain('variant "bad-edit": Invalid clip descriptor in props.clip: edit.blendThreshold: expected a number in [0, ∞), got "high"');
		expect(engineRuns(log)).toEqual([]);
		expect(readdirSync(outDir)).toEqual([]);
	});

	it('applies the render flags to every variant: --scale 0.5 --frames 0-3 --crf 30 → 64×64, 4 frames', async () => {
		const render = variantRenderOptions({scale: '0.5', frames: '0-3', crf: '30'});
		expect(render).toEqual({scale: 0.5, frameRange: [0, 3], crf: 30, concurrency: null});
		// red and snowy are cached by the three-prompt batch above: only the renders run
		const events: VariantProgress[] = [];
		const outDir = path.join(root, 'flags');
		const result = await renderVariants({entryPoint: ENTRY, compositionId: 'ClipInSequence', variants: [VARIANTS[0], VARIANTS[1]], outDir, settings, project, serveUrl, browserExecutable: BROWSER, ...render, onVariantProgress: (e) => events.push(e)});
		expect(result.variants.map((row) => [row.variant, row.status, row.error])).toEqual([
			['red', 'rendered', null],
			['snowy', 'rendered', null],
		]);
		const {ffprobe} = resolveCompositorBinaries();
		for (const row of result.variants) {
			const probe = await probeVideo(ffprobe, row.output);
			expect({width: probe.width, height: probe.height, frameCount: probe.frameCount}, row.variant).toEqual({width: 64, height: 64, frameCount: 4});
		}
		// progress counts the frames rendered, not the composition's 30
		expect(new Set(events.filter((e) => e.stage === 'rendering').map((e) => e.total))).toEqual(new Set([4]));
	});

	it('--fail-fast stops at the first failed variant; without it the others still render', async () => {
		vi.stubEnv('FATEZERO_ENGINE_LOG', path.join(root, 'fail-fast-engine.log'));
		// "broken" is valid JSON and a valid descriptor, but its source does not exist: its job fails.
		const variants = [variant('broken', 'a red car on a road', {clip: tinyClip(path.join(root, 'missing-frames'), 'a red car on a road')}), variant('red', 'a red car on a road')];
		const events: VariantProgress[] = [];
		const stopped = await renderVariants({entryPoint: ENTRY, compositionId: 'ClipInSequence', variants, outDir: path.join(root, 'fail-fast'), settings, project, serveUrl, browserExecutable: BROWSER, failFast: true, onVariantProgress: (e) => events.push(e)});
		expect(stopped.ok).toBe(false);
		expect(stopped.variants.map((row) => row.status)).toEqual(['failed', 'skipped']);
		expect(stopped.variants[0].error).toContain('missing-frames');
		expect(stopped.variants[1].error).toContain('--fail-fast stopped the batch after variant "broken" failed');
		expect(readdirSync(path.join(root, 'fail-fast'))).toEqual(['manifest.json']);
		expect(events.filter((e) => e.stage === 'rendering')).toEqual([]);

		// Without --fail-fast, through the command (in this process): the batch goes on, exit code 1.
		const file = path.join(root, 'keep-going.json');
		writeFileSync(file, JSON.stringify(variants));
		const lines: string[] = [];
		vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void lines.push(parts.join(' ')));
		vi.spyOn(console, 'error').mockImplementation((...parts: unknown[]) => void lines.push(parts.join(' ')));
		vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
		const code = await renderCommand([ENTRY, 'ClipInSequence', '--variants', file, '--out-dir', path.join(root, 'keep-going'), '--cache-dir', cacheDir, '--public-dir', publicDir, '--browser-executable', BROWSER, '--json']);
		vi.restoreAllMocks();
		expect(code).toBe(1);
		expect(lines.join('\n')).toMatch(/^broken\s+\S+broken\.mp4\s+failed\s+0\s+0\s/m);
		expect(lines.join('\n')).toMatch(/^red\s+\S+red\.mp4\s+rendered\s+1\s+0\s/m);
		expect(lines.join('\n')).toContain('✖ broken: ');
		const kept = JSON.parse(lines.at(-1)!) as {ok: boolean; manifest: string; variants: VariantResult[]};
		expect(kept.variants.map((row) => [row.status, row.cacheHits, row.cacheMisses])).toEqual([
			['failed', 0, 0],
			['rendered', 1, 0],
		]);
		expect(readdirSync(path.join(root, 'keep-going')).sort()).toEqual(['manifest.json', 'red.mp4']);
		const written = JSON.parse(readFileSync(kept.manifest, 'utf8')) as {ok: boolean; variants: VariantResult[]};
		expect(written).toMatchObject({ok: false, variants: kept.variants});
	});
});
