import {describe, expect, it} from 'vitest';
import {descriptorKey} from '../../plugin/clip/descriptor-key.js';
import {fateZeroClip} from '../../plugin/clip/fatezero-clip.js';
import {findClipDescriptors} from '../../plugin/clip/find-clip-descriptors.js';
import {isStudioClip, studioClip, studioClipSchema, studioClipToDescriptor} from '../../plugin/clip/studio-clip-schema.js';

// Props the panel can edit (issue 13 item 4): the Studio form is another spelling of the same
// clip: mapped back it is the canonical descriptor, with the same descriptor key.

const base = {source: 'footage/car.mp4', sourcePrompt: 'a silver jeep driving down a road', prompt: 'a watercolor painting of a silver jeep driving down a road'};
const clips = {
	defaults: fateZeroClip(base),
	windows: fateZeroClip({...base, edit: {crossReplace: [0.1, 0.7], selfReplace: 0.5}}),
	perWord: fateZeroClip({...base, edit: {crossReplace: {default: 0.8, watercolor: [0, 0.4]}, reweight: {watercolor: 4, painting: 2}}}),
	blend: fateZeroClip({...base, edit: {blendWords: [['jeep'], ['jeep']], latentBlend: true, blendThreshold: 0.4, controller: 'refine'}}),
	attention: fateZeroClip({...base, attention: ['first', -1], frames: {start: 2, count: 4, fps: 5}, size: 256, steps: 20, guidance: 5, seed: 7, leastScChannel: 320, label: 'jeep'}),
	preset: fateZeroClip({...base, attention: 'self-mid', model: 'models/sd15'}),
};

describe('studioClipSchema', () => {
	it.each(Object.entries(clips))('keeps the descriptor and its key through the Studio form (%s)', (_name, clip) => {
		const form = studioClip(clip);
		expect(isStudioClip(form)).toBe(true);
		expect(isStudioClip(clip)).toBe(false);
		// what Studio saves: JSON that the schema accepts as it is
		const saved = JSON.parse(JSON.stringify(form));
		expect(studioClipSchema.parse(saved)).toEqual(saved);
		const back = studioClipToDescriptor(saved);
		expect(back).toEqual(clip);
		expect(descriptorKey(back)).toBe(descriptorKey(clip));
	});

	it('has only fields Studio 4.0.529 edits: no unions or records', () => {
		const kinds = new Set<string>();
		const visit = (schema: {def?: {type?: string; shape?: Record<string, unknown>; element?: unknown; innerType?: unknown}}) => {
			const def = schema.def ?? {};
			kinds.add(def.type ?? 'unknown');
			if (def.shape) for (const child of Object.values(def.shape)) visit(child as never);
			if (def.element) visit(def.element as never);
			if (def.innerType) visit(def.innerType as never);
		};
		visit(studioClipSchema as never);
		expect([...kinds].sort()).toEqual(['array', 'boolean', 'enum', 'nullable', 'number', 'object', 'optional', 'string']);
		// prompts are Studio textareas
		expect(studioClipSchema.shape.prompt.description).toBe('__remotion-textarea');
		expect(studioClipSchema.shape.sourcePrompt.description).toBe('__remotion-textarea');
	});

	it('is found in props like the canonical form (prerender discovery), under the same key', () => {
		const [found] = findClipDescriptors({clip: studioClip(clips.perWord)});
		expect(descriptorKey(found)).toBe(descriptorKey(clips.perWord));
	});

	it('refuses through the descriptor schema what the engine cannot run', () => {
		const form = studioClip(clips.defaults);
		expect(() => studioClipToDescriptor({...form, steps: 0})).toThrow(/steps/);
	});
});
