import {readFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {parse as parseYaml} from 'yaml';
import {describe, expect, it} from 'vitest';
import {isFateZeroError} from '../../../plugin/errors/fatezero-error.js';
import {OFFICIAL_DEFAULTS, parseOfficialConfig} from '../../../plugin/fatezero/official-config/index.js';
import {goldenDir, goldenSkipReason, hasGolden} from '../../helpers/golden.js';
import {GOLDEN_RUNS, SOURCE_PROMPT, type GoldenRunName} from '../golden-fatezero-run.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const fixture = (name: string) => readFileSync(path.join(fixtures, `${name}.yaml`), 'utf8');
const parse = (text: string) => parseOfficialConfig(text, {file: 'test.yaml', env: {}});

const WATERCOLOR = `watercolor painting of ${SOURCE_PROMPT}`;
const PORSCHE = 'a Porsche car driving down a curvy road in the countryside';

/** A small valid config in the official layout, with `extra` YAML appended under editing_config's p2p_config. */
const minimal = (p2p: string, editing = '', top = '') => `
dataset_config:
    prompt: "a silver jeep"
editing_config:
    use_invertion_latents: true
    prompt2prompt_edit: True
    num_inference_steps: 10
    guidance_scale: 7.5
    clip_length: 8
    editing_prompts: [a silver jeep, a red jeep]
${editing}
    p2p_config:
${p2p}
${top}`;

const expectConfigError = (run: () => unknown, pattern: RegExp): string => {
	try {
		run();
	} catch (error) {
		expect(isFateZeroError(error, 'INVALID_OPTION'), String(error)).toBe(true);
		expect((error as Error).message).toMatch(pattern);
		return (error as Error).message;
	}
	throw new Error('expected a config error');
};

describe('parseOfficialConfig on the golden runs written as official configs', () => {
	it('style_mid_th1024: prompts, p2p entries, steps, guidance, attention and frames', () => {
		const config = parse(fixture('style_mid_th1024'));
		expect(config.dataset).toEqual({
			path: '../shared/footage/car-turn',
			prompt: SOURCE_PROMPT,
			start: 0,
			count: 4,
			stride: 1,
			crop: {left: 0, right: 0, top: 0, bottom: 0},
			sizeInPixels: 128,
		});
		expect(config.modelPath).toBe('../shared/golden/tiny-sd');
		expect([config.steps, config.guidance, config.attention, config.leastScChannel, config.seed]).toEqual([10, 7.5, ['mid'], 64, 0]);
		expect(config.edits).toEqual([
			{prompt: SOURCE_PROMPT, crossReplace: {default_: 1}, selfReplace: 1, reweight: null, blendWords: [['jeep'], ['jeep']], blendThreshold: 2, blendSelfAttention: true, latentBlend: false, controller: 'refine'},
			{prompt: WATERCOLOR, crossReplace: {default_: 0.8}, selfReplace: 0.8, reweight: {words: ['watercolor'], values: [10]}, blendWords: null, blendThreshold: 0.3, blendSelfAttention: false, latentBlend: false, controller: 'refine'},
		]);
		// lora and seed are accepted with a warning each (seed once); the unresolvable test_pipeline_config interpolation is a note
		expect(config.warnings).toHaveLength(2);
		expect(config.warnings[0]).toMatch(/^model_config\.lora: accepted without effect/);
		expect(config.warnings[1]).toMatch(/^seed 0 has no effect here: the VAE encodes the frames to the latent mean/);
		expect(config.notes).toContainEqual(expect.stringMatching(/^test_pipeline_config\.num_inference_steps = "\$\{\.\.validation_sample_logger\.num_inference_steps\}" does not resolve .*; ignored, since that key has no effect here\.$/));
	});

	describe.skipIf(!hasGolden)(`matches every golden run's run.json${hasGolden ? '' : ` (${goldenSkipReason})`}`, () => {
		it.each(Object.keys(GOLDEN_RUNS) as GoldenRunName[])('%s', (run) => {
			type P2p = {is_replace_controller?: boolean; cross_replace_steps: unknown; self_replace_steps: unknown; eq_params?: unknown; blend_words?: unknown; blend_self_attention?: boolean; blend_th?: number[]};
			const json = JSON.parse(readFileSync(path.join(goldenDir, 'e2e', run, 'run.json'), 'utf8')) as {
				source_prompt: string;
				num_inference_steps: number;
				guidance_scale: number;
				image_size: number;
				frames: string[];
				edits: Record<string, {target_prompt: string; p2p_config: P2p}>;
			};
			const config = parse(fixture(run));
			expect(config.dataset.prompt).toBe(json.source_prompt);
			expect([config.steps, config.guidance, config.dataset.sizeInPixels, config.dataset.count]).toEqual([json.num_inference_steps, json.guidance_scale, json.image_size, json.frames.length]);
			expect(config.attention).toEqual(GOLDEN_RUNS[run].references);
			expect(config.leastScChannel).toBe(GOLDEN_RUNS[run].minChannels);
			expect(config.edits).toEqual(
				Object.values(json.edits).map(({target_prompt, p2p_config: p2p}) => ({
					prompt: target_prompt,
					crossReplace: p2p.cross_replace_steps,
					selfReplace: p2p.self_replace_steps,
					reweight: p2p.eq_params ?? null,
					blendWords: p2p.blend_words ?? null,
					blendThreshold: p2p.blend_th?.[0] ?? 0.3,
					blendSelfAttention: p2p.blend_self_attention ?? false,
					latentBlend: false,
					controller: p2p.is_replace_controller === false ? 'refine' : 'auto',
				})),
			);
		});
	});

	it('the car-turn teaser configs: jeep_watercolor (Refine, reweight ×10) and jeep_posche (Replace, blend words)', () => {
		const watercolor = parse(fixture('jeep_watercolor'));
		expect([watercolor.steps, watercolor.dataset.count, watercolor.dataset.sizeInPixels, watercolor.attention, watercolor.leastScChannel]).toEqual([50, 8, 512, ['mid'], 640]);
		expect(watercolor.edits[1]).toMatchObject({prompt: WATERCOLOR, controller: 'refine', crossReplace: {default_: 0.8}, selfReplace: 0.8, reweight: {words: ['watercolor'], values: [10]}, blendWords: null});
		// entry 0 sets blend_self_attention without blend_words: no mask, as in the official code
		expect(watercolor.edits[0]).toMatchObject({selfReplace: 0.9, blendWords: null, blendThreshold: 2});
		expect(watercolor.notes).toContainEqual('editing_config.p2p_config[0]: blend_self_attention has no effect without blend_words (as in the official code).');

		const posche = parse(fixture('jeep_posche'));
		expect(posche.dataset.prompt).toBe(`${SOURCE_PROMPT},`);
		expect(posche.modelPath).toBe('./ckpt/jeep_tuned_200');
		expect(posche.attention).toEqual([-1, 'first']);
		expect(posche.leastScChannel).toBe(0);
		expect(posche.edits[1]).toEqual({
			prompt: PORSCHE,
			crossReplace: {default_: 0.5},
			selfReplace: 0.5,
			reweight: null,
			blendWords: [['silver', 'jeep'], ['Porsche', 'car']],
			blendThreshold: 0.3,
			blendSelfAttention: true,
			latentBlend: false,
			controller: 'auto',
		});
	});
});

describe('parseOfficialConfig: JSON, defaults, warnings', () => {
	it('reads the same structure as JSON text or as an object', () => {
		const yaml = parse(fixture('style_mid_th1024'));
		const object = parseYaml(fixture('style_mid_th1024')) as Record<string, unknown>;
		const fromJson = parseOfficialConfig(JSON.stringify(object, null, 2), {file: 'config.json'});
		const fromObject = parseOfficialConfig(object);
		for (const other of [fromJson, fromObject]) {
			expect(other.edits).toEqual(yaml.edits);
			expect(other.dataset).toEqual(yaml.dataset);
			expect([other.steps, other.guidance, other.attention]).toEqual([yaml.steps, yaml.guidance, yaml.attention]);
		}
	});

	it('fills missing keys with the official defaults and says where the official code would fail', () => {
		const config = parse(`
dataset_config:
    prompt: "a silver jeep"
    n_sample_frame: -1
editing_config:
    use_invertion_latents: true
    prompt2prompt_edit: true
    editing_prompts: [a silver jeep, a red jeep]
    p2p_config:
        0:
            is_replace_controller: False
`);
		expect(config.dataset).toMatchObject({count: null, stride: 1, start: 0, sizeInPixels: OFFICIAL_DEFAULTS.imageSize, path: null});
		expect(config.modelPath).toBeNull();
		expect([config.steps, config.guidance]).toEqual([50, 7]);
		expect(config.attention).toEqual([-1, 'first']);
		expect(config.leastScChannel).toBe(0);
		expect(config.seed).toBeNull();
		expect(config.edits).toEqual([
			{prompt: 'a silver jeep', crossReplace: 0.8, selfReplace: 0.8, reweight: null, blendWords: null, blendThreshold: 0.3, blendSelfAttention: false, latentBlend: false, controller: 'refine'},
			{prompt: 'a red jeep', crossReplace: 0.8, selfReplace: 0.8, reweight: null, blendWords: null, blendThreshold: 0.3, blendSelfAttention: false, latentBlend: false, controller: 'auto'},
		]);
		const warnings = config.warnings.join('\n');
		expect(warnings).toContain('editing_config.p2p_config[0].cross_replace_steps is missing, which the official code requires (it would stop with a KeyError); using 0.8.');
		expect(warnings).toContain('editing_config.p2p_config has no entry 1 for editing prompt 1 ("a red jeep"); the official code would stop with a KeyError.');
		expect(warnings).toContain('editing_config.num_inference_steps is missing (the official test_fatezero.py requires it); using 50.');
		expect(warnings).toContain('editing_config.guidance_scale is missing: using 7, the official P2pSampleLogger default (every shipped config writes 7.5).');
		expect(config.notes).toContain('editing_config.clip_length is missing (the official P2pSampleLogger requires it); the clip length is the number of frames.');
	});

	it('prompt2prompt_edit missing (official default False) renders without fusion, as the official code does', () => {
		const config = parse(minimal('        0: {cross_replace_steps: 0.8, self_replace_steps: 0.8}').replace('    prompt2prompt_edit: True\n', ''));
		expect(config.edits.map((e) => [e.crossReplace, e.selfReplace, e.blendWords, e.reweight])).toEqual([
			[0, 0, null, null],
			[0, 0, null, null],
		]);
		expect(config.warnings.join('\n')).toMatch(/prompt2prompt_edit is missing \(the official default is False\): the official code then samples every prompt .* without attention fusion/);
	});

	it('warns about keys it does not reproduce and notes keys without effect', () => {
		const config = parse(
			minimal(
				`        0:
            cross_replace_steps: {default_: 0.8, jeep: [0.2, 0.6]}
            self_replace_steps: [0.1, 0.9]
            bend_th: [2, 2]
            masked_self_attention: True
        1:
            cross_replace_steps: 0.5
            self_replace_steps: 0.5
            blend_words: [[silver], [red]]
            blend_th: [0.3, 0.5]
            frobnicate: 1
        7: {cross_replace_steps: 0.5, self_replace_steps: 0.5}`,
				`    use_inversion_attention: False
    source_prompt: "\${dataset_config.prompt}"
    sample_seeds: [0, 1, 2]
    clip_length: 4
    annotate: true`,
				`seed: 3
model_config:
    lora: 16
    SparseCausalAttention_index: []
    temporal_downsample_time: 4
learning_rate: 1e-5
train_steps: 10`,
			).replace('    clip_length: 8\n', ''),
		);
		const warnings = config.warnings.join('\n');
		for (const expected of [
			'editing_config.p2p_config[0].bend_th: the pre-release name of blend_th; the released FateZero code ignores it, and so does this port. Write blend_th instead.',
			'editing_config.p2p_config[0].masked_self_attention: the pre-release name of blend_self_attention',
			'editing_config.p2p_config[1].frobnicate is not a key the official FateZero code reads here; ignored.',
			'editing_config.p2p_config[1].blend_words has no effect: neither blend_self_attention nor blend_latents is true',
			'editing_config.p2p_config[7] has no editing prompt (editing_prompts has 2); ignored.',
			'editing_config.use_inversion_attention is false',
			'editing_config.source_prompt is ignored: dataset_config.prompt is the source prompt. The official test_fatezero.py passes source_prompt=dataset_config.prompt',
			'editing_config.clip_length is 4 but dataset_config.n_sample_frame is 8',
			'model_config.lora: accepted without effect',
			'model_config.temporal_downsample_time: not supported',
			'learning_rate is not a key the official FateZero code reads here; ignored. (Training and other tools\' keys have no effect on editing.)',
			'train_steps is not a key the official FateZero code reads here; ignored.',
			'seed 3 has no effect here',
		]) {
			expect(warnings).toContain(expected);
		}
		expect(config.warnings.filter((w) => w.startsWith('seed'))).toHaveLength(1);
		expect(config.edits[0]).toMatchObject({crossReplace: {default_: 0.8, jeep: [0.2, 0.6]}, selfReplace: [0.1, 0.9], blendThreshold: 0.3});
		expect(config.edits[1]).toMatchObject({blendWords: [['silver'], ['red']], blendSelfAttention: false, blendThreshold: 0.3});
		expect(config.attention).toEqual([0]);
		const notes = config.notes.join('\n');
		expect(notes).toContain('editing_config.sample_seeds has 3 seeds: each prompt is rendered once');
		expect(notes).toContain('editing_config.annotate: no effect: presentation of the official sample GIFs.');
		expect(notes).toContain('editing_config.p2p_config[1].blend_th[1] (0.5) only thresholds subtraction words');
		expect(notes).toContain('model_config.SparseCausalAttention_index is empty: plain per-frame self-attention');
	});
});

describe('parseOfficialConfig errors name the key path, the value and the fix', () => {
	const entry = (body: string) => minimal(`        0: {cross_replace_steps: 0.8, self_replace_steps: 0.8}\n        1:\n${body}`);

	it('windows: NaN, outside [0, 1], reversed', () => {
		expectConfigError(() => parse(entry('            cross_replace_steps: 0.5\n            self_replace_steps: .nan')), /^editing_config\.p2p_config\[1\]\.self_replace_steps is NaN: not a number\. Give a fraction of the steps in \[0, 1\]/);
		expectConfigError(() => parse(entry('            cross_replace_steps: {default_: 1.5}\n            self_replace_steps: 0.5')), /^editing_config\.p2p_config\[1\]\.cross_replace_steps\.default_ is 1\.5: outside \[0, 1\]/);
		expectConfigError(() => parse(entry('            cross_replace_steps: 0.5\n            self_replace_steps: [0.8, 0.2]')), /^editing_config\.p2p_config\[1\]\.self_replace_steps is \[0\.8,0\.2\]: start is after end/);
		expectConfigError(() => parse(entry('            cross_replace_steps: {default_: 0.5, car: [0.6, 0.1]}\n            self_replace_steps: 0.5')), /cross_replace_steps\.car is \[0\.6,0\.1\]: start is after end/);
	});

	it('blend_th, eq_params, blend_words and the controller flag', () => {
		expectConfigError(() => parse(entry('            cross_replace_steps: 0.5\n            self_replace_steps: 0.5\n            blend_th: [.nan, 0.3]')), /^editing_config\.p2p_config\[1\]\.blend_th\[0\] is NaN: not a number \(NaN\)\. Write blend_th: \[0\.3, 0\.3\]/);
		expectConfigError(() => parse(entry('            cross_replace_steps: 0.5\n            self_replace_steps: 0.5\n            blend_th: high')), /^editing_config\.p2p_config\[1\]\.blend_th is "high": not a number/);
		expectConfigError(() => parse(entry('            cross_replace_steps: 0.5\n            self_replace_steps: 0.5\n            eq_params: {words: [red], values: [-2]}')), /^editing_config\.p2p_config\[1\]\.eq_params\.values\[0\] is -2: below 0/);
		expectConfigError(() => parse(entry('            cross_replace_steps: 0.5\n            self_replace_steps: 0.5\n            eq_params: {words: [red]}')), /^editing_config\.p2p_config\[1\]\.eq_params\.values is missing: required when eq_params is given/);
		expectConfigError(() => parse(entry('            cross_replace_steps: 0.5\n            self_replace_steps: 0.5\n            blend_words: [[a], [b], [c]]')), /^editing_config\.p2p_config\[1\]\.blend_words is \[\["a"\],\["b"\],\["c"\]\]: it has 3 entries/);
		expectConfigError(() => parse(entry('            cross_replace_steps: 0.5\n            self_replace_steps: 0.5\n            blend_words: [[{x: 1}]]')), /blend_words\[0\]\[0\] is \{"x":1\}: not a word/);
		expectConfigError(() => parse(entry('            cross_replace_steps: 0.5\n            self_replace_steps: 0.5\n            is_replace_controller: maybe')), /^editing_config\.p2p_config\[1\]\.is_replace_controller is "maybe": not true or false/);
	});

	it('prompts, frames and model settings', () => {
		expectConfigError(() => parse(minimal('        0: {}').replace('editing_prompts: [a silver jeep, a red jeep]', 'editing_prompts: []')), /^editing_config\.editing_prompts is \[\]: empty, so there is nothing to render\. List at least one editing prompt/);
		expectConfigError(() => parse(minimal('        0: {}').replace('editing_prompts: [a silver jeep, a red jeep]', 'editing_prompts: [a jeep, [nested]]')), /^editing_config\.editing_prompts\[1\] is \["nested"\]: not a string/);
		expectConfigError(() => parse(minimal('        0: {}').replace('    prompt: "a silver jeep"', '    path: data')), /^dataset_config\.prompt is missing: required/);
		expectConfigError(() => parse(minimal('        0: {}').replace('    prompt: "a silver jeep"', '    prompt: "a silver jeep"\n    n_sample_frame: 0')), /^dataset_config\.n_sample_frame is 0: zero frames/);
		expectConfigError(() => parse(minimal('        0: {}').replace('    prompt: "a silver jeep"', '    prompt: "a silver jeep"\n    image_size: 100')), /^dataset_config\.image_size is 100: not a multiple of 8 .*Try 104/);
		expectConfigError(() => parse(minimal('        0: {}').replace('    prompt: "a silver jeep"', '    prompt: "a silver jeep"\n    offset: {middle: 3}')), /^dataset_config\.offset\.middle is 3: not an offset/);
		expectConfigError(() => parse(minimal('        0: {}', '', "model_config:\n    SparseCausalAttention_index: ['mid', 'center']")), /^model_config\.SparseCausalAttention_index\[1\] is "center": not a reference frame/);
		expectConfigError(() => parse(minimal('        0: {}', '', 'model_config:\n    least_sc_channel: -3')), /^model_config\.least_sc_channel is -3: below 0/);
	});

	it('an interpolation a used key needs must resolve', () => {
		expectConfigError(
			() => parse(minimal('        0: {}').replace('guidance_scale: 7.5', 'guidance_scale: "${validation_sample_logger_config.guidance_scale}"')),
			/^editing_config\.guidance_scale is "\$\{validation_sample_logger_config\.guidance_scale\}", an interpolation that does not resolve \(the config has no top-level key "validation_sample_logger_config"\)/,
		);
	});

	it('YAML syntax errors show the line and column; other layouts get a hint', () => {
		const message = expectConfigError(() => parse('dataset_config:\n    prompt: "a jeep"\nediting_config:\n    editing_prompts: [a, b\n    guidance_scale: 7.5\n'), /^test\.yaml: YAML syntax error at line \d+, column \d+: /);
		expect(message).toContain('editing_prompts: [a, b');
		expectConfigError(() => parse('a: 1\na: 2\n'), /^test\.yaml: YAML syntax error at line 2, column 1: Map keys must be unique/);
		expectConfigError(() => parse(''), /^test\.yaml is empty/);
		expectConfigError(() => parse('- a\n- b\n'), /^test\.yaml holds a list, not a mapping of keys/);
		expectConfigError(() => parse('train_dataset: {prompt: x}\nvalidation_sample_logger_config: {prompts: [x]}\n'), /has train_dataset but no dataset_config: .*Rename train_dataset → dataset_config/);
		expectConfigError(() => parse('dataset_config: {prompt: x}\n'), /^editing_config is missing: required/);
	});
});
