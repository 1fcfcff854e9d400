import {describe, expect, it} from 'vitest';
import {ENGINE_DEFAULTS} from '../../plugin/clip/engine-defaults.js';
import {EDIT_HELP} from '../../plugin/cli/edit-help.js';
import {parseBlendWords, parseCrossReplace, parseEditArgs, parseOffset, parseReweight, parseWindow, perPrompt, resolveEditFlags, resolveFrameSelection} from '../../plugin/cli/edit-flags.js';

// The pure part of `fatezero edit`: flags → run options, without files, model or engine.

const base = ['--source-prompt', 'a jeep', '--prompt', 'a red jeep', '--out', 'out', '--frames', 'frames'];
const resolve = (extra: string[] = []) => {
	const warnings: string[] = [];
	const flags = resolveEditFlags(parseEditArgs([...base, ...extra]), null, (w) => warnings.push(w));
	return {flags, warnings};
};

describe('edit flag values', () => {
	it('windows, per-word cross-replace, reweight, blend words and offsets', () => {
		expect(parseWindow('self-replace', '0.8')).toBe(0.8);
		expect(parseWindow('self-replace', '0.2:0.8')).toEqual([0.2, 0.8]);
		expect(() => parseWindow('self-replace', '0.9:0.1')).toThrow(/start is after end/);
		expect(parseCrossReplace('0.8')).toBe(0.8);
		expect(parseCrossReplace('0.8,car=0:0.5')).toEqual({default_: 0.8, car: [0, 0.5]});
		expect(() => parseCrossReplace('car=0.5,0.8')).toThrow(/only the first item may be a bare window/);
		expect(parseReweight('watercolor=10')).toEqual({words: ['watercolor'], values: [10]});
		expect(parseReweight('none')).toBeNull();
		expect(() => parseReweight('watercolor')).toThrow(/word=factor/);
		expect(parseBlendWords('silver,jeep:Porsche,car')).toEqual([['silver', 'jeep'], ['Porsche', 'car']]);
		expect(() => parseBlendWords('a:b:c')).toThrow(/more than one ":"/);
		expect(parseOffset('0,0,40,0')).toEqual({left: 0, right: 0, top: 40, bottom: 0});
		expect(() => parseOffset('1,2')).toThrow(/four whole numbers/);
	});

	it('a per-prompt flag is given once or once per prompt', () => {
		expect(perPrompt('blend-th', ['0.3'], 3, Number)).toEqual([0.3, 0.3, 0.3]);
		expect(perPrompt('blend-th', ['0.1', '0.2'], 2, Number)).toEqual([0.1, 0.2]);
		expect(perPrompt('blend-th', undefined, 2, Number)).toBeNull();
		expect(() => perPrompt('blend-th', ['0.1', '0.2'], 3, Number)).toThrow(/given 2 times for 3 prompts/);
	});
});

describe('resolveEditFlags', () => {
	it('fills every left-out option from ENGINE_DEFAULTS', () => {
		const {flags, warnings} = resolve();
		expect(flags).toMatchObject({
			sourcePrompt: 'a jeep',
			edits: [{prompt: 'a red jeep'}],
			steps: ENGINE_DEFAULTS.steps,
			guidance: ENGINE_DEFAULTS.guidance,
			requestedSource: ENGINE_DEFAULTS.attentionSource,
			storagePrecision: ENGINE_DEFAULTS.storagePrecision,
			fusionMaxQueryTokens: ENGINE_DEFAULTS.fusionMaxQueryTokens,
			chunkSizeInFrames: null,
			memoryBudgetInMegabytes: undefined,
			attention: ['mid'],
			executionProvider: ENGINE_DEFAULTS.executionProvider,
			computeType: ENGINE_DEFAULTS.computeType,
		});
		expect(warnings).toEqual([]);
	});

	it('per-prompt flags apply to their prompts; blend words on the command line mask the self-attention', () => {
		const {flags, warnings} = resolve(['--prompt', 'a blue jeep', '--blend-words', 'jeep:jeep', '--cross-replace', '0.5', '--cross-replace', '0.6', '--latent-blend']);
		expect(flags.edits.map((e) => [e.prompt, e.crossReplace, e.blendSelfAttention, e.latentBlend])).toEqual([
			['a red jeep', 0.5, true, true],
			['a blue jeep', 0.6, true, true],
		]);
		expect(warnings).toEqual([]);
		expect(resolve(['--latent-blend']).warnings).toEqual(['--latent-blend has no effect on prompts without blend words (give --blend-words).']);
	});

	it('names the missing or bad flag', () => {
		expect(() => resolveEditFlags(parseEditArgs(['--prompt', 'x', '--source-prompt', 'y']), null)).toThrow(/needs --out DIR/);
		expect(() => resolveEditFlags(parseEditArgs(['--out', 'o', '--prompt', 'x']), null)).toThrow(/needs --source-prompt TEXT/);
		expect(() => resolve(['--steps', 'ten'])).toThrow(/--steps must be a whole number ≥ 1; got "ten"/);
		expect(() => resolve(['--attention-source', 'cache'])).toThrow(/--attention-source "cache" is not one of recompute, stored, auto/);
		expect(() => resolve(['--memory-budget-mb', '0'])).toThrow(/--memory-budget-mb must be a number > 0/);
		expect(() => parseEditArgs(['--frobnicate'])).toThrow(/fatezero edit --help/);
	});

	it('frame selection: defaults, and all of a tensor', () => {
		const values = parseEditArgs(base);
		expect(resolveFrameSelection(values, null, 'frames').selection).toEqual({start: 0, stride: 1, count: ENGINE_DEFAULTS.frameCount});
		expect(resolveFrameSelection(values, null, 'tensor').selection.count).toBeNull();
		expect(resolveFrameSelection(parseEditArgs([...base, '--frames-count', '4', '--stride', '2', '--offset', '1,2,3,4']), null, 'video')).toEqual({selection: {start: 0, stride: 2, count: 4}, crop: {left: 1, right: 2, top: 3, bottom: 4}});
	});

	it('the help quotes the defaults it runs with', () => {
		for (const key of ['steps', 'guidance', 'crossReplace', 'selfReplace', 'blendThreshold', 'attention', 'attentionSource', 'storagePrecision', 'fusionMaxQueryTokens', 'executionProvider', 'computeType'] as const) {
			expect(EDIT_HELP, key).toContain(`Default ${ENGINE_DEFAULTS[key]}`);
		}
	});
});
