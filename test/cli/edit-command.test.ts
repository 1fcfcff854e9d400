import {execFile} from 'node:child_process';
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {promisify} from 'node:util';
import sharp from 'sharp';
import {afterAll, afterEach, beforeAll, describe, expect, it, vi} from 'vitest';
import {editCommand} from '../../plugin/cli/edit-command.js';
import {isFateZeroError, type FateZeroErrorCode} from '../../plugin/errors/fatezero-error.js';
import {generateRandomModel} from '../../plugin/model-generator/generate-random-model.js';
import {readFloatTensor, readSafetensorsIndex, writeSafetensors} from '../../plugin/model/safetensors-file.js';
import {footageDir, goldenDir, goldenSkipReason, GoldenFile, hasFootage, hasGolden, maxAbsDiff} from '../helpers/golden.js';
import {framesFirst, type GoldenRunName} from '../fatezero/golden-fatezero-run.js';

const execute = promisify(execFile);
const bin = path.resolve('bin/fatezero.js');
const fixtures = path.resolve('test/fatezero/official-config/fixtures');
const root = mkdtempSync(path.join(os.tmpdir(), 'fatezero-edit-'));
const cacheDir = path.join(root, 'cache');
// The generated tiny model (same architecture as the golden tiny-sd), made once for every test here.
const tinyModel = generateRandomModel({dir: path.join(root, 'tiny-model')}).dir;
afterAll(() => rmSync(root, {recursive: true, force: true}));
afterEach(() => {
	vi.restoreAllMocks();
	vi.unstubAllEnvs();
});

/** editCommand in this process, its stdout lines captured; the JSON summary parsed when --json is given. */
const edit = async (args: string[]) => {
	const lines: string[] = [];
	vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void lines.push(parts.join(' ')));
	const code = await editCommand([...args, '--cache-dir', cacheDir]);
	vi.restoreAllMocks();
	const stdout = lines.join('\n');
	return {code, stdout, summary: args.includes('--json') ? JSON.parse(lines.at(-1)!) : null};
};

const rejection = async (args: string[], code: FateZeroErrorCode): Promise<string> => {
	vi.spyOn(console, 'log').mockImplementation(() => {});
	try {
		await editCommand([...args, '--cache-dir', cacheDir]);
	} catch (error) {
		expect(isFateZeroError(error, code), String(error)).toBe(true);
		return (error as Error).message;
	} finally {
		vi.restoreAllMocks();
	}
	throw new Error('expected editCommand to throw');
};

/** The CLI as a user runs it (bin → main → editCommand): exit code and both streams. */
const spawnCli = async (args: string[]) => {
	try {
		const {stdout, stderr} = await execute(process.execPath, [bin, 'edit', ...args, '--cache-dir', cacheDir], {env: {...process.env, FATEZERO_MODEL: 'generated:tiny'}, timeout: 240_000});
		return {code: 0, stdout, stderr};
	} catch (error) {
		const e = error as {code: number; stdout: string; stderr: string};
		return {code: e.code, stdout: e.stdout, stderr: e.stderr};
	}
};

const pngs = (dir: string) => readdirSync(dir).filter((name) => name.endsWith('.png')).sort();

const writeImages = (file: string, shape: number[], fill: (i: number) => number, name = 'images') => {
	const data = Float32Array.from({length: shape.reduce((a, b) => a * b, 1)}, (_, i) => fill(i));
	writeSafetensors(file, {[name]: {dtype: 'F32', shape, bytes: new Uint8Array(data.buffer)}});
	return file;
};

/** A small frame folder made here (a moving gradient), so the option tests need no shared data. */
const framesDir = path.join(root, 'frames');
beforeAll(async () => {
	mkdirSync(framesDir, {recursive: true});
	for (let f = 0; f < 3; f++) {
		const pixels = Buffer.alloc(48 * 40 * 3);
		for (let i = 0; i < 48 * 40; i++) pixels.set([(i % 48) * 5, (f * 60) % 256, Math.floor(i / 48) * 6], i * 3);
		await sharp(pixels, {raw: {width: 48, height: 40, channels: 3}}).png().toFile(path.join(framesDir, `${String(f).padStart(5, '0')}.png`));
	}
});

type GoldenCase = {run: GoldenRunName; mode: 'recompute' | 'stored' | 'auto'; extra: string[]};
const GOLDEN_CASES: GoldenCase[] = [
	{run: 'style_mid_th1024', mode: 'recompute', extra: []},
	{run: 'shape_default_th1024', mode: 'recompute', extra: []},
	{run: 'shape_default_th64', mode: 'recompute', extra: ['--fusion-max-query-tokens', '64']},
	// stored mode with its default float16 storage
	{run: 'shape_default_th64', mode: 'stored', extra: ['--fusion-max-query-tokens', '64']},
	// auto with room to spare keeps the source attention (stored)
	{run: 'style_mid_th1024', mode: 'auto', extra: ['--memory-budget-mb', '100000']},
];

describe.skipIf(!hasGolden)(`fatezero edit --config on the golden runs${hasGolden ? '' : ` (${goldenSkipReason})`}`, () => {
	const images = path.join(root, 'golden-images.safetensors');
	beforeAll(() => {
		// The golden input frames [4, 3, 128, 128] in [-1, 1]; the same frames serve all three runs.
		const input = new GoldenFile('e2e/style_mid_th1024/inversion.safetensors').float('images_input');
		writeSafetensors(images, {images: {dtype: 'F32', shape: input.shape, bytes: new Uint8Array(input.data.buffer)}});
	});

	it.each(GOLDEN_CASES)('$run, $mode attention: the final latents of every prompt match the official run within 2e-3', async ({run, mode, extra}) => {
		const out = path.join(root, `golden-${run}-${mode}`);
		const latents = path.join(out, 'latents.safetensors');
		const {code, stdout, summary} = await edit([
			'--config', path.join(fixtures, `${run}.yaml`),
			'--model', path.join(goldenDir, 'tiny-sd'),
			'--frames-tensor', images,
			'--attention-source', mode,
			...extra,
			'--out', out,
			'--save-latents', latents,
			'--json',
		]);
		expect(code).toBe(0);
		if (mode === 'auto') expect(stdout).toMatch(/Attention {4}stored \(--attention-source auto: the inversion's queries\/keys for 10 steps fit the memory budget \(100000 MB\)\)/);
		const json = JSON.parse(readFileSync(path.join(goldenDir, 'e2e', run, 'run.json'), 'utf8')) as {edits: Record<string, {inner_controller: string}>};
		const names = Object.keys(json.edits).filter((name) => existsSync(path.join(goldenDir, 'e2e', run, `edit_${name}.safetensors`)));
		expect(summary.controllers).toEqual(names.map((name) => json.edits[name].inner_controller.replace('Attention', '').toLowerCase()));
		expect(summary.chunkSizeInFrames).toBe(4);
		expect(pngs(summary.outputs.source.dir)).toHaveLength(4);
		const saved = readSafetensorsIndex(latents);
		expect(saved.tensors.get('zT')?.shape).toEqual([4, 4, 16, 16]);
		const report: string[] = [];
		for (const [k, name] of names.entries()) {
			expect(pngs(summary.outputs.edits[k].dir)).toEqual(['00000.png', '00001.png', '00002.png', '00003.png']);
			const ours = readFloatTensor(saved, `edited.${k}`).data;
			const official = framesFirst(new GoldenFile(`e2e/${run}/edit_${name}.safetensors`).float('final_latent').data);
			const error = maxAbsDiff(ours, official);
			report.push(`${name} ${error.toExponential(2)}`);
			expect(error).toBeLessThan(2e-3);
		}
		console.log(`fatezero edit --config ${run}.yaml (${mode}): final latent max abs error ${report.join(', ')}`);
	});
});

describe.skipIf(!hasFootage)('fatezero edit with the car-turn teaser configs on the real footage (tiny model, 128², 5 steps)', () => {
	const frames = path.join(footageDir, 'car-turn');

	it('jeep_watercolor.yaml: reconstruction + watercolor, 8 frames each as PNGs', async () => {
		const out = path.join(root, 'watercolor');
		const {code, stdout, summary} = await edit(['--config', path.join(fixtures, 'jeep_watercolor.yaml'), '--model', tinyModel, '--frames', frames, '--size', '128', '--steps', '5', '--out', out, '--json']);
		expect(code).toBe(0);
		expect(summary.input).toMatchObject({kind: 'frames', frames: 8, size: 128});
		expect(summary.steps).toBe(5);
		expect(summary.controllers).toEqual(['refine', 'refine']);
		expect(summary.outputs.edits.map((e: {dir: string}) => path.basename(e.dir))).toEqual(['0-a-silver-jeep-driving-down-a-curvy-road-in-the', '1-watercolor-painting-of-a-silver-jeep-driving']);
		// least_sc_channel 640 is for SD-1.x: on the tiny model no level reads the middle frame, and the CLI says so
		expect(summary.warnings.join('\n')).toContain('least_sc_channel 640 is above every UNet level\'s channels (32, 64, 64)');
		expect(stdout).toContain(`Wrote        ${out}/`);
		for (const dir of [summary.outputs.source.dir, ...summary.outputs.edits.map((e: {dir: string}) => e.dir)]) {
			const files = pngs(dir);
			expect(files).toHaveLength(8);
			const meta = await sharp(path.join(dir, files[7])).metadata();
			expect([meta.width, meta.height, meta.channels]).toEqual([128, 128, 3]);
		}
	});

	it('jeep_posche.yaml through the fatezero binary: Refine + Replace with blend words, --json last', async () => {
		const out = path.join(root, 'posche');
		const result = await spawnCli(['--config', path.join(fixtures, 'jeep_posche.yaml'), '--model', tinyModel, '--frames', frames, '--size', '128', '--steps', '5', '--out', out, '--json']);
		expect(result.code, result.stderr).toBe(0);
		const summary = JSON.parse(result.stdout.trim().split('\n').at(-1)!);
		expect(summary.controllers).toEqual(['refine', 'replace']);
		expect(summary.attention).toEqual([-1, 'first']);
		// entry 0's dummy reweight words are not in its prompt: silently ignored officially, a warning here
		expect(result.stdout).toContain('reweight word "watercolor" is not in the target prompt');
		for (const edit of summary.outputs.edits) expect(pngs(edit.dir)).toHaveLength(8);
		expect(pngs(path.join(out, 'source'))).toHaveLength(8);
	});
});

describe('fatezero edit from flags', () => {
	it('with no model uses the generated tiny model; per-prompt options; unknown words warn; --save-latents', async () => {
		vi.stubEnv('FATEZERO_MODEL', 'generated:tiny');
		const out = path.join(root, 'flags');
		const latents = path.join(out, 'latents.safetensors');
		const {code, stdout, summary} = await edit([
			'--frames', framesDir,
			'--frames-count', '2',
			'--size', '32',
			'--steps', '2',
			'--source-prompt', 'a silver jeep driving down a road',
			'--prompt', 'a silver jeep driving down a road',
			'--prompt', 'a red jeep driving down a road',
			'--self-replace', '1', '--self-replace', '0.2:0.6',
			'--cross-replace', '0.8,red=0:0.5',
			'--reweight', 'none', '--reweight', 'zebra=10',
			'--blend-words', 'silver:red', '--blend-words', 'silver,jeeep:red',
			'--blend-th', '0.3',
			'--out', out,
			'--save-latents', latents,
			'--json',
		]);
		expect(code).toBe(0);
		expect(stdout).toContain('Model: the generated tiny random-weight model');
		expect(summary.model.generated).toBe(true);
		expect(summary.controllers).toEqual(['replace', 'replace']);
		const warnings = summary.warnings.join('\n');
		expect(warnings).toContain('reweight word "zebra" is not in the target prompt');
		expect(warnings).toContain('blend word "jeeep" is not in the source prompt');
		expect(stdout).toContain('⚠ "a red jeep driving down a road": reweight word "zebra"');
		const saved = readSafetensorsIndex(latents);
		expect([...saved.tensors.keys()]).toEqual(['zT', 'edited.0', 'edited.1']);
		expect(saved.tensors.get('edited.1')?.shape).toEqual([2, 4, 4, 4]);
		expect(JSON.parse(saved.metadata.prompts)).toEqual(['a silver jeep driving down a road', 'a red jeep driving down a road']);
		expect(pngs(path.join(out, '1-a-red-jeep-driving-down-a-road'))).toEqual(['00000.png', '00001.png']);
	});

	it('rejects bad options before loading anything, naming the flag and the value', async () => {
		const base = ['--model', tinyModel, '--frames', framesDir, '--source-prompt', 'a jeep', '--prompt', 'a red jeep', '--out', path.join(root, 'never')];
		expect(await rejection([...base, '--self-replace', '0.8:0.2'], 'INVALID_OPTION')).toMatch(/^--self-replace 0\.8:0\.2 is \[0\.8,0\.2\]: start is after end/);
		expect(await rejection([...base, '--cross-replace', '1.5'], 'INVALID_OPTION')).toMatch(/^--cross-replace 1\.5 is 1\.5: outside \[0, 1\]/);
		expect(await rejection([...base, '--cross-replace', 'nan'], 'INVALID_OPTION')).toMatch(/^--cross-replace "nan" is not a window/);
		expect(await rejection([...base, '--blend-th', 'NaN'], 'INVALID_OPTION')).toMatch(/^--blend-th "NaN" is not a number/);
		expect(await rejection([...base, '--reweight', 'watercolor=lots'], 'INVALID_OPTION')).toMatch(/^--reweight "watercolor=lots": "watercolor=lots" is not word=factor/);
		expect(await rejection([...base, '--controller', 'swap'], 'INVALID_OPTION')).toMatch(/^--controller "swap" is not one of auto, replace, refine/);
		expect(await rejection([...base, '--self-replace', '0.5', '--self-replace', '0.5', '--self-replace', '0.5'], 'INVALID_OPTION')).toMatch(/--self-replace is given 3 times for 1 prompts: give it once/);
		expect(await rejection([...base, '--frames-count', '0'], 'INVALID_OPTION')).toMatch(/--frames-count must be a whole number ≥ 1; got "0"/);
		expect(await rejection([...base, '--size', '100'], 'INVALID_OPTION')).toMatch(/The frame size 100 \(--size\) does not fit this model: it must be a multiple of 32 .*Try --size 96/);
		expect(await rejection([...base, '--size', '12'], 'INVALID_OPTION')).toMatch(/it must be a multiple of 32 .*Try --size 32/);
		expect(await rejection([...base, '--guidance', 'high'], 'INVALID_OPTION')).toMatch(/--guidance must be a finite number; got "high"/);
		expect(await rejection([...base, '--video', 'x.mp4'], 'INVALID_OPTION')).toMatch(/Give one input, not --frames and --video/);
		expect(await rejection(base.filter((arg, i) => arg !== '--frames' && base[i - 1] !== '--frames'), 'INVALID_OPTION')).toMatch(/needs an input: --frames DIR/);
		expect(await rejection(base.filter((arg, i) => arg !== '--prompt' && base[i - 1] !== '--prompt'), 'INVALID_OPTION')).toMatch(/needs at least one --prompt/);
		expect(await rejection(['--frames', framesDir, '--source-prompt', 'a', '--prompt', 'b'], 'INVALID_OPTION')).toMatch(/needs --out DIR/);
		expect(await rejection([...base, '--frobnicate'], 'INVALID_OPTION')).toMatch(/Unknown option '--frobnicate'.*Run "fatezero edit --help"/);
	});

	it('rejects a frames tensor with the wrong name, shape, size, range or no frames', async () => {
		const base = ['--model', tinyModel, '--source-prompt', 'a jeep', '--prompt', 'a red jeep', '--out', path.join(root, 'never')];
		const tensor = (name: string, shape: number[], fill = (i: number) => Math.sin(i), tensorName = 'images') => ['--frames-tensor', writeImages(path.join(root, `${name}.safetensors`), shape, fill, tensorName)];
		expect(await rejection([...base, ...tensor('named', [2, 3, 32, 32], undefined, 'frames')], 'INVALID_INPUT')).toMatch(/has no tensor "images" \(it has "frames"\)\. Save the frames as one F32 tensor named "images", \[F, 3, H, W\] in \[-1, 1\]/);
		expect(await rejection([...base, ...tensor('channels', [2, 4, 32, 32])], 'INVALID_INPUT')).toMatch(/"images" has shape \[2, 4, 32, 32\]\. It must be F32 \[F, 3, H, W\]/);
		expect(await rejection([...base, ...tensor('empty', [0, 3, 32, 32])], 'INVALID_INPUT')).toMatch(/"images" has zero frames/);
		expect(await rejection([...base, ...tensor('size', [2, 3, 32, 32]), '--size', '64'], 'INVALID_INPUT')).toMatch(/"images" has 32×32 frames but the size is 64 \(--size\)\. The frames are used as they are: pass --size 32/);
		expect(await rejection([...base, ...tensor('odd', [2, 3, 36, 36])], 'INVALID_OPTION')).toMatch(/The frame size 36 \(the tensor\) does not fit this model: it must be a multiple of 32/);
		expect(await rejection([...base, ...tensor('bytes', [2, 3, 32, 32], (i) => i % 256)], 'INVALID_INPUT')).toMatch(/"images" spans \[0, 255\], not \[-1, 1\]\. Scale 8-bit frames as x \/ 127\.5 − 1/);
		expect(await rejection([...base, ...tensor('short', [2, 3, 32, 32]), '--frames-count', '3'], 'INVALID_OPTION')).toMatch(/needs frame 2, but --frames-tensor .* has 2 frames/);
		expect(await rejection([...base, '--frames-tensor', path.join(root, 'missing.safetensors')], 'INVALID_INPUT')).toMatch(/missing\.safetensors does not exist or is not a file/);
		writeFileSync(path.join(root, 'junk.safetensors'), 'not a tensor file');
		expect(await rejection([...base, '--frames-tensor', path.join(root, 'junk.safetensors')], 'INVALID_INPUT')).toMatch(/junk\.safetensors is not a readable safetensors file/);
	});

	it('rejects bad configs: missing file, YAML syntax, empty editing_prompts, bad values, paths that do not exist', async () => {
		const out = ['--out', path.join(root, 'never'), '--model', tinyModel, '--frames', framesDir];
		expect(await rejection(['--config', path.join(root, 'nope.yaml'), ...out], 'INVALID_OPTION')).toMatch(/Config file .*nope\.yaml does not exist/);
		const write = (name: string, text: string) => {
			const file = path.join(root, name);
			writeFileSync(file, text);
			return file;
		};
		const posche = readFileSync(path.join(fixtures, 'jeep_posche.yaml'), 'utf8');
		expect(await rejection(['--config', write('syntax.yaml', posche.replace('self_replace_steps: 0.5', 'self_replace_steps: [0.5')), ...out], 'INVALID_OPTION')).toMatch(/syntax\.yaml: YAML syntax error at line \d+, column \d+/);
		const empty = posche.replace(/editing_prompts: \[[^\]]*\]/, 'editing_prompts: []');
		expect(await rejection(['--config', write('empty.yaml', empty), ...out], 'INVALID_OPTION')).toMatch(/empty\.yaml: editing_config\.editing_prompts is \[\]: empty, so there is nothing to render/);
		expect(await rejection(['--config', write('window.yaml', posche.replace('self_replace_steps: 0.5', 'self_replace_steps: [0.5, 0.1]')), ...out], 'INVALID_OPTION')).toMatch(/window\.yaml: editing_config\.p2p_config\[1\]\.self_replace_steps is \[0\.5,0\.1\]: start is after end/);
		// the config's own model and frames paths (relative to the working directory, then to the config's folder)
		vi.stubEnv('FATEZERO_MODEL', '');
		expect(await rejection(['--config', path.join(fixtures, 'jeep_posche.yaml'), '--out', path.join(root, 'never'), '--frames', framesDir], 'INVALID_OPTION')).toMatch(/pretrained_model_path "\.\/ckpt\/jeep_tuned_200" of .* does not exist .*Pass --model DIR/);
		expect(await rejection(['--config', path.join(fixtures, 'jeep_posche.yaml'), '--out', path.join(root, 'never'), '--model', tinyModel], 'INVALID_OPTION')).toMatch(/dataset_config\.path "data\/teaser_car-turn" of .* does not exist .*Pass the frames with --frames DIR/);
		mkdirSync(path.join(root, 'rel', 'frames'), {recursive: true});
		for (const file of readdirSync(framesDir)) writeFileSync(path.join(root, 'rel', 'frames', file), readFileSync(path.join(framesDir, file)));
		const relative = write('rel/config.yaml', posche.replace('"data/teaser_car-turn"', '"frames"').replace('n_sample_frame: 8', 'n_sample_frame: 9'));
		expect(await rejection(['--config', relative, '--out', path.join(root, 'never'), '--model', tinyModel, '--size', '32'], 'INVALID_OPTION')).toMatch(/rel\/frames has only 3 frames/);
	});

	it('engine option errors surface before the inversion, naming the prompt', async () => {
		const message = await rejection(
			['--model', tinyModel, '--frames', framesDir, '--frames-count', '1', '--size', '32', '--steps', '1', '--source-prompt', 'a silver jeep', '--prompt', 'a red sports car', '--controller', 'replace', '--out', path.join(root, 'never')],
			'INVALID_OPTION',
		);
		expect(message).toMatch(/^Prompt 0 \("a red sports car"\): controller 'replace' needs prompts with the same number of space-separated words/);
	});

	it('--prompt replaces editing_prompts of a config; p2p_config[k] still pairs with the k-th prompt', async () => {
		const lines: string[] = [];
		vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void lines.push(parts.join(' ')));
		const args = ['--config', path.join(fixtures, 'jeep_posche.yaml'), '--model', tinyModel, '--frames', framesDir, '--prompt', 'a', '--prompt', 'b', '--prompt', 'c', '--size', '100', '--out', path.join(root, 'never')];
		await expect(editCommand([...args, '--cache-dir', cacheDir])).rejects.toThrow(/--size 96/);
		expect(lines.join('\n')).toContain('⚠ --prompt 2 ("c") has no p2p_config entry in the config: the engine\'s defaults apply');
	});

	it('the binary exits 2 for option errors and 1 for input errors, with the message on stderr', async () => {
		const base = ['--model', tinyModel, '--source-prompt', 'a jeep', '--prompt', 'a red jeep', '--out', path.join(root, 'never')];
		const option = await spawnCli([...base, '--frames', framesDir, '--cross-replace', '0.9:0.1']);
		expect(option.code).toBe(2);
		expect(option.stderr).toContain('✖ --cross-replace 0.9:0.1 is [0.9,0.1]: start is after end');
		expect(option.stderr).toContain('INVALID_OPTION');
		const input = await spawnCli([...base, '--frames-tensor', writeImages(path.join(root, 'spawn-bad.safetensors'), [1, 3, 32, 32], () => 0, 'pixels')]);
		expect(input.code).toBe(1);
		expect(input.stderr).toContain('has no tensor "images" (it has "pixels")');
	});
});
