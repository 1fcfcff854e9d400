import {createHash} from 'node:crypto';
import {describe, expect, expectTypeOf, it} from 'vitest';
import {z} from 'zod';
import {
	canonicalJson,
	CLIP_DEFAULTS,
	clipDescriptorSchema,
	descriptorKey,
	descriptorKeyInputs,
	ENGINE_VERSION,
	fateZeroClip,
	parseClipDescriptor,
	type ClipDescriptor,
	type ClipDescriptorInput,
} from '../../plugin/clip/index.js';
import {FateZeroError} from '../../plugin/errors/index.js';

const base = {
	source: 'footage/car-turn.mp4',
	sourcePrompt: 'a silver jeep driving down a curvy road in the countryside',
	prompt: 'watercolor painting of a silver jeep driving down a curvy road in the countryside',
} satisfies ClipDescriptorInput;

const invalid = (value: unknown): FateZeroError => {
	try {
		parseClipDescriptor(value);
	} catch (error) {
		expect(error).toBeInstanceOf(FateZeroError);
		return error as FateZeroError;
	}
	throw new Error(`expected ${JSON.stringify(value)} to be rejected`);
};

describe('fateZeroClip', () => {
	it('applies every default from CLIP_DEFAULTS and nothing else', () => {
		expect(fateZeroClip(base)).toEqual({...base, ...CLIP_DEFAULTS});
	});

	it('returns a canonical descriptor that the schema accepts and that maps to itself', () => {
		const clip = fateZeroClip({...base, edit: {crossReplace: {default: [0, 0.5], watercolor: [0.1, 0.9]}, reweight: {watercolor: 10}}, label: 'jeep'});
		expect(clipDescriptorSchema.safeParse(clip).success).toBe(true);
		expect(fateZeroClip(clip)).toEqual(clip);
		expect(JSON.parse(JSON.stringify(clip))).toEqual(clip);
		expectTypeOf<ClipDescriptor>().toExtend<ClipDescriptorInput>();
	});

	it('never shares mutable objects with the defaults', () => {
		const clip = fateZeroClip(base);
		clip.edit.reweight.watercolor = 10;
		expect(CLIP_DEFAULTS.edit.reweight).toEqual({});
		expect(Object.isFrozen(CLIP_DEFAULTS.edit)).toBe(true);
	});

	it('unifies equivalent spellings of windows and attention presets', () => {
		const canonical = fateZeroClip({...base, edit: {crossReplace: {default: [0, 0.6]}, selfReplace: [0, 0.4]}, attention: [-1, 'first']});
		expect(canonical.edit.crossReplace).toBe(0.6);
		expect(canonical.edit.selfReplace).toBe(0.4);
		expect(canonical.attention).toBe('first-prev');
		expect(fateZeroClip({...base, attention: ['first', 2]}).attention).toEqual(['first', 2]);
	});
});

describe('descriptorKey', () => {
	const key = descriptorKey(base);

	it('is the SHA-256 hex of the canonical descriptor and the engine version', () => {
		expect(key).toMatch(/^[0-9a-f]{64}$/);
		expect(descriptorKeyInputs(base).engineVersion).toBe(ENGINE_VERSION);
		// Pinned: a change here invalidates every user's cache. Change it only together with
		// ENGINE_VERSION or on purpose, and say so in the changelog.
		const text =
			'{"clip":{"attention":"mid","edit":{"blendThreshold":0.3,"blendWords":null,"controller":"auto","crossReplace":0.8,"latentBlend":false,"reweight":{},"selfReplace":0.8},' +
			'"frames":{"count":8,"fps":null,"start":0,"stride":1},"guidance":7.5,"leastScChannel":640,"model":null,' +
			`"prompt":"${base.prompt}","seed":0,"size":512,"source":"${base.source}","sourcePrompt":"${base.sourcePrompt}","steps":50},"engineVersion":"${ENGINE_VERSION}"}`;
		expect(canonicalJson(descriptorKeyInputs(base))).toBe(text);
		expect(key).toBe(createHash('sha256').update(text).digest('hex'));
	});

	it('does not change when the defaults are spelled out, in any key order', () => {
		const spelled: ClipDescriptorInput = {
			leastScChannel: CLIP_DEFAULTS.leastScChannel,
			attention: CLIP_DEFAULTS.attention,
			edit: {
				latentBlend: false,
				controller: 'auto',
				blendThreshold: 0.3,
				blendWords: null,
				reweight: {},
				selfReplace: [0, 0.8],
				crossReplace: {default: 0.8},
			},
			seed: 0,
			guidance: 7.5,
			steps: 50,
			size: 512,
			frames: {fps: null, stride: 1, count: 8, start: 0},
			model: null,
			prompt: base.prompt,
			sourcePrompt: base.sourcePrompt,
			source: base.source,
		};
		expect(descriptorKey(spelled)).toBe(key);
		expect(descriptorKey({...base, attention: ['mid']})).toBe(key);
		expect(descriptorKey({...base, frames: {}})).toBe(key);
		expect(descriptorKey(fateZeroClip(base))).toBe(key);
	});

	it('changes with every field that affects pixels', () => {
		const variants: ClipDescriptorInput[] = [
			{...base, source: 'footage/other.mp4'},
			{...base, sourcePrompt: 'a jeep'},
			{...base, prompt: 'oil painting of a silver jeep driving down a curvy road in the countryside'},
			{...base, model: 'models/sd-1-4'},
			{...base, frames: {start: 1}},
			{...base, frames: {count: 16}},
			{...base, frames: {stride: 2}},
			{...base, frames: {fps: 12}},
			{...base, size: 256},
			{...base, steps: 20},
			{...base, guidance: 9},
			{...base, seed: 1},
			{...base, edit: {crossReplace: 0.5}},
			{...base, edit: {crossReplace: [0.1, 0.8]}},
			{...base, edit: {crossReplace: {default: 0.8, watercolor: 0.4}}},
			{...base, edit: {selfReplace: 0.5}},
			{...base, edit: {selfReplace: [0.2, 0.8]}},
			{...base, edit: {reweight: {watercolor: 10}}},
			{...base, edit: {reweight: {watercolor: 5}}},
			{...base, edit: {blendWords: [['jeep'], ['jeep']]}},
			{...base, edit: {blendThreshold: 0.2}},
			{...base, edit: {controller: 'refine'}},
			{...base, edit: {controller: 'replace'}},
			{...base, edit: {blendWords: [['jeep'], ['jeep']], latentBlend: true}},
			{...base, attention: 'first-prev'},
			{...base, attention: 'self-mid'},
			{...base, attention: 'self'},
			{...base, attention: ['first', 'last']},
			{...base, leastScChannel: 1280},
		];
		const keys = variants.map((v) => descriptorKey(v));
		expect(keys).not.toContain(key);
		expect(new Set(keys).size).toBe(keys.length);
	});

	it('ignores fields that change no pixels', () => {
		expect(descriptorKey({...base, label: 'watercolor jeep'})).toBe(key);
		expect(fateZeroClip({...base, label: 'watercolor jeep'}).label).toBe('watercolor jeep');
	});
});

describe('validation errors', () => {
	it('name the field path, what it expects and the value', () => {
		const error = invalid({...base, edit: {blendThreshold: 'high'}});
		expect(error.code).toBe('INVALID_OPTION');
		expect(error.message).toContain('edit.blendThreshold: expected a number in [0, ∞), got "high"');
	});

	it('cover ranges, types, windows, words, unknown fields and missing fields', () => {
		expect(invalid({...base, frames: {count: 0}}).message).toContain('frames.count: expected a whole number ≥ 1, got 0');
		expect(invalid({...base, size: 500}).message).toContain('size: expected a whole number from 8 to 1024 that is a multiple of 8, got 500');
		expect(invalid({...base, edit: {crossReplace: 2}}).message).toContain('edit.crossReplace: expected a number in [0, 1], got 2');
		expect(invalid({...base, edit: {selfReplace: [0.9, 0.2]}}).message).toContain('edit.selfReplace: [0.9,0.2] starts after it ends');
		expect(invalid({...base, edit: {reweight: {'oil painting': 3}}}).message).toContain('edit.reweight["oil painting"]: "oil painting" is not a single word');
		expect(invalid({...base, edit: {crossRepalce: 0.5}}).message).toContain('edit: unknown field "crossRepalce" (did you mean "crossReplace"?)');
		expect(invalid({...base, attention: 'middle'}).message).toContain('attention: expected one of "mid", "first-prev", "self-mid", "self"');
		expect(invalid({...base, edit: {latentBlend: true}}).message).toContain('edit.latentBlend: true needs edit.blendWords');
		expect(invalid({...base, frames: {fps: 12, stride: 2}}).message).toContain('frames.stride: 2 conflicts with frames.fps 12');
		const missing = invalid({source: 'a.mp4'}).message;
		expect(missing).toContain('sourcePrompt: expected a non-blank prompt of at most 1000 characters, got nothing');
		expect(missing).toContain('; prompt: expected a non-blank prompt of at most 1000 characters, got nothing');
		expect(invalid(42).message).toContain('expected an object {source, sourcePrompt, prompt, …}, got 42');
	});

	it('say where the descriptor came from', () => {
		try {
			parseClipDescriptor({...base, seed: -1}, 'variants.json, variant 2');
			expect.unreachable();
		} catch (error) {
			expect((error as Error).message).toMatch(/^Invalid clip descriptor in variants\.json, variant 2: seed: expected a whole number ≥ 0, got -1\./);
		}
	});
});

describe('clipDescriptorSchema', () => {
	it('documents every field, nested ones included (Studio shows the descriptions)', () => {
		const undocumented: string[] = [];
		const visit = (shape: Record<string, z.ZodType>, prefix: string) => {
			for (const [name, field] of Object.entries(shape)) {
				if (!field.description) undocumented.push(`${prefix}${name}`);
				const inner = field instanceof z.ZodOptional ? field.unwrap() : field;
				if (inner instanceof z.ZodObject) visit(inner.shape as Record<string, z.ZodType>, `${prefix}${name}.`);
			}
		};
		visit(clipDescriptorSchema.shape, '');
		expect(undocumented).toEqual([]);
		expect(clipDescriptorSchema.shape.steps.description).toContain(`Default ${CLIP_DEFAULTS.steps}`);
	});
});
