import {describe, expect, it} from 'vitest';
import {resolveInterpolations, UnresolvedInterpolation} from '../../../plugin/fatezero/official-config/index.js';

const resolve = (tree: unknown, env: Record<string, string> = {}) => resolveInterpolations(tree, env);

describe('resolveInterpolations (OmegaConf ${…})', () => {
	it('resolves relative interpolations from the mapping that holds the key, as the official configs use them', () => {
		const {tree, unresolved} = resolve({
			dataset_config: {n_sample_frame: 8, prompt: 'a jeep'},
			editing_config: {clip_length: '${..dataset_config.n_sample_frame}', sibling: '${.clip_length}', deep: {up: '${...dataset_config.prompt}'}},
		});
		expect(unresolved).toEqual([]);
		const editing = (tree as {editing_config: Record<string, unknown>}).editing_config;
		// a whole-string interpolation keeps the referenced value's type
		expect(editing.clip_length).toBe(8);
		expect(editing.sibling).toBe(8);
		expect(editing.deep).toEqual({up: 'a jeep'});
	});

	it('resolves absolute paths, list indices, chains and text around interpolations', () => {
		const {tree, resolved} = resolve({
			a: {b: 0.5, list: ['x', 'y'], flag: true, none: null},
			c: '${a.b}',
			d: '${c}',
			e: 'seed_${a.b}_${a.flag}_${a.none}',
			f: '${a.list[1]}',
			g: '${a.list.0}',
			h: {whole: '${a}'},
		});
		expect(tree).toMatchObject({c: 0.5, d: 0.5, e: 'seed_0.5_True_None', f: 'y', g: 'x', h: {whole: {b: 0.5, list: ['x', 'y']}}});
		expect(resolved.map((r) => r.path.join('.'))).toEqual(['c', 'd', 'e', 'f', 'g', 'h.whole']);
	});

	it('keeps escaped \\${ literal and reads oc.env with a default', () => {
		const {tree} = resolve({literal: 'cost \\${a}', home: '${oc.env:FZ_TEST_HOME}', fallback: '${oc.env:FZ_MISSING,"/tmp"}', legacy: '${env:FZ_TEST_HOME}'}, {FZ_TEST_HOME: '/home/x'});
		expect(tree).toEqual({literal: 'cost ${a}', home: '/home/x', fallback: '/tmp', legacy: '/home/x'});
	});

	it('leaves what does not resolve as a marker with the reason, without failing the rest', () => {
		const {tree, unresolved} = resolve({
			test_pipeline_config: {num_inference_steps: '${..validation_sample_logger.num_inference_steps}'},
			cycle_a: '${cycle_b}',
			cycle_b: '${cycle_a}',
			too_high: '${...x}',
			resolver: '${now:%Y}',
			list: {items: [1], bad: '${list.items[3]}'},
			env: '${oc.env:FZ_NOT_SET}',
			ok: 1,
		});
		expect((tree as {ok: number}).ok).toBe(1);
		const reasons = Object.fromEntries(unresolved.map((u) => [u.path.join('.'), u.reason]));
		expect(reasons['test_pipeline_config.num_inference_steps']).toBe('the config has no top-level key "validation_sample_logger"');
		expect(reasons.cycle_a).toMatch(/refers back to itself/);
		expect(reasons.too_high).toMatch(/3 leading dots climb above the top of the config from too_high/);
		expect(reasons.resolver).toMatch(/resolver "now" is not supported/);
		expect(reasons['list.bad']).toMatch(/list.items is a list of 1 item\(s\) and has no item "3"/);
		expect(reasons.env).toMatch(/FZ_NOT_SET is not set/);
		const marker = (tree as {test_pipeline_config: {num_inference_steps: unknown}}).test_pipeline_config.num_inference_steps;
		expect(marker).toBeInstanceOf(UnresolvedInterpolation);
		expect((marker as UnresolvedInterpolation).expression).toBe('${..validation_sample_logger.num_inference_steps}');
	});
});
