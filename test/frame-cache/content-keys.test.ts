import {copyFileSync, cpSync, mkdirSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {describe, expect, it} from 'vitest';
import {fateZeroClip, type ClipDescriptorInput} from '../../plugin/clip/index.js';
import {clipContentKeys, editKey, inversionKey, sourceKey} from '../../plugin/frame-cache/content-keys.js';
import {hashSourceContent} from '../../plugin/media/hash-source-content.js';
import {frameBytes, tempCacheDir} from './cache-test-helpers.js';

const root = tempCacheDir('content-keys');
const base = {source: 'footage/a.mp4', sourcePrompt: 'a silver jeep on a road', prompt: 'watercolor painting of a silver jeep on a road'} satisfies ClipDescriptorInput;
const known = {contentHash: 'c'.repeat(64), modelIdentity: 'm'.repeat(64)};
const keysOf = (input: ClipDescriptorInput, overrides: Partial<typeof known> = {}) => clipContentKeys(fateZeroClip(input), {...known, ...overrides});

describe('hashSourceContent', () => {
	it('hashes a video file by its bytes: a renamed copy keeps the hash, changed bytes change it', async () => {
		const video = path.join(root, 'clip.mp4');
		writeFileSync(video, frameBytes(0, 10_000));
		const renamed = path.join(root, 'renamed.mp4');
		copyFileSync(video, renamed);
		const hash = await hashSourceContent(video);
		expect(hash).toMatch(/^[0-9a-f]{64}$/);
		expect(await hashSourceContent(renamed)).toBe(hash);
		const changed = frameBytes(0, 10_000);
		changed[5000] ^= 1;
		writeFileSync(renamed, changed);
		expect(await hashSourceContent(renamed)).not.toBe(hash);
	});

	it('hashes a frame folder by its frames in order: a moved folder keeps the hash, a changed frame changes it', async () => {
		const folder = path.join(root, 'frames');
		mkdirSync(folder);
		for (let f = 0; f < 3; f++) writeFileSync(path.join(folder, `${f}.png`), frameBytes(f));
		const moved = path.join(root, 'moved-frames');
		cpSync(folder, moved, {recursive: true});
		const hash = await hashSourceContent(folder);
		expect(await hashSourceContent(moved)).toBe(hash);
		writeFileSync(path.join(moved, '1.png'), frameBytes(7));
		expect(await hashSourceContent(moved)).not.toBe(hash);
	});
});

describe('content keys', () => {
	const keys = keysOf(base);

	it('renaming the source reuses every key (content, not path, is hashed)', () => {
		expect(keysOf({...base, source: 'elsewhere/renamed.mp4'})).toEqual(keys);
		expect(keysOf({...base, label: 'a label'})).toEqual(keys);
	});

	it('changing the source content changes every key', () => {
		const changed = keysOf(base, {contentHash: 'd'.repeat(64)});
		expect(changed.sourceKey).not.toBe(keys.sourceKey);
		expect(changed.inversionKey).not.toBe(keys.inversionKey);
		expect(changed.editKey).not.toBe(keys.editKey);
	});

	it('variants of one source and source prompt share the source and the inversion', () => {
		const variants: ClipDescriptorInput[] = [
			{...base, prompt: 'oil painting of a silver jeep on a road'},
			{...base, guidance: 12},
			{...base, seed: 5},
			{...base, edit: {crossReplace: 0.3}},
			{...base, edit: {selfReplace: [0.1, 0.6]}},
			{...base, edit: {reweight: {watercolor: 10}}},
			{...base, edit: {blendWords: [['jeep'], ['car']], blendThreshold: 0.2, latentBlend: true}},
			{...base, edit: {controller: 'refine'}},
		];
		const editKeys = variants.map((v) => {
			const k = keysOf(v);
			expect(k.sourceKey).toBe(keys.sourceKey);
			expect(k.inversionKey).toBe(keys.inversionKey);
			return k.editKey;
		});
		expect(new Set([keys.editKey, ...editKeys]).size).toBe(variants.length + 1);
	});

	it('the inversion covers model identity, source prompt, steps and attention layout, not the source import', () => {
		const inversionChanges = [
			keysOf(base, {modelIdentity: 'n'.repeat(64)}),
			keysOf({...base, sourcePrompt: 'a jeep'}),
			keysOf({...base, steps: 20}),
			keysOf({...base, attention: 'first-prev'}),
			keysOf({...base, leastScChannel: 1280}),
		];
		for (const k of inversionChanges) {
			expect(k.sourceKey).toBe(keys.sourceKey);
			expect(k.inversionKey).not.toBe(keys.inversionKey);
			expect(k.editKey).not.toBe(keys.editKey);
		}
		expect(new Set(inversionChanges.map((k) => k.inversionKey)).size).toBe(inversionChanges.length);
	});

	it('the source key covers frame selection, size and crop', () => {
		const frames = fateZeroClip(base).frames;
		const sourceKeys = [
			sourceKey({contentHash: known.contentHash, frames, size: 512}),
			sourceKey({contentHash: known.contentHash, frames: {...frames, start: 1}, size: 512}),
			sourceKey({contentHash: known.contentHash, frames: {...frames, count: 9}, size: 512}),
			sourceKey({contentHash: known.contentHash, frames: {...frames, stride: 2}, size: 512}),
			sourceKey({contentHash: known.contentHash, frames: {...frames, fps: 12}, size: 512}),
			sourceKey({contentHash: known.contentHash, frames, size: 256}),
			sourceKey({contentHash: known.contentHash, frames, size: 512, crop: {left: 10, right: 0, top: 0, bottom: 0}}),
		];
		expect(sourceKeys[0]).toBe(keys.sourceKey);
		expect(new Set(sourceKeys).size).toBe(sourceKeys.length);
	});

	it('pixel options (precision, chunking) enter the inversion and edit keys; an empty set is the default', () => {
		const clip = fateZeroClip(base);
		const inversion = {sourceKey: keys.sourceKey, modelIdentity: known.modelIdentity, sourcePrompt: clip.sourcePrompt, steps: clip.steps, attention: clip.attention, leastScChannel: clip.leastScChannel};
		expect(inversionKey({...inversion, pixelOptions: {}})).toBe(keys.inversionKey);
		expect(inversionKey({...inversion, pixelOptions: {precision: 'fp16'}})).not.toBe(keys.inversionKey);
		const edit = {inversionKey: keys.inversionKey, prompt: clip.prompt, guidance: clip.guidance, seed: clip.seed, edit: clip.edit};
		expect(editKey(edit)).toBe(keys.editKey);
		expect(editKey({...edit, pixelOptions: {chunkFrames: 4}})).not.toBe(keys.editKey);
	});
});
