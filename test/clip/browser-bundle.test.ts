import {createHash} from 'node:crypto';
import path from 'node:path';
import vm from 'node:vm';
import {build} from 'esbuild';
import {describe, expect, it} from 'vitest';
import * as clip from '../../plugin/clip/index.js';

type ClipModule = typeof clip;

const descriptors: clip.ClipDescriptorInput[] = [
	{source: 'footage/car-turn.mp4', sourcePrompt: 'a silver jeep', prompt: 'watercolor painting of a silver jeep'},
	{
		source: 'footage/swan',
		sourcePrompt: 'a black swan with a red beak swimming in a river near a café wall and bushes,',
		prompt: 'a white duck with a yellow beak swimming in a river near a wall and bushes,',
		model: 'models/stable-diffusion-v1-4',
		frames: {start: 2, count: 12, fps: 12},
		size: 256,
		steps: 20,
		guidance: 9,
		seed: 33,
		edit: {crossReplace: {default: [0.1, 0.5], duck: 0.9}, selfReplace: [0.2, 0.9], reweight: {white: 4.5}, blendWords: [['swan'], ['duck']], blendThreshold: 0.25, controller: 'replace', latentBlend: true},
		attention: ['first', -1, 'last'],
		leastScChannel: 1280,
		label: 'ünïcödé ✓ 日本語',
	},
];

describe('the clip module in the browser bundle', () => {
	it('bundles without node: imports and computes the same descriptor keys as Node, with no Node globals', async () => {
		const result = await build({
			entryPoints: [path.resolve('plugin/clip/index.ts')],
			bundle: true,
			platform: 'browser',
			format: 'iife',
			globalName: 'fateZeroClipModule',
			write: false,
			metafile: true,
			logLevel: 'silent',
		});
		const inputs = Object.keys(result.metafile.inputs);
		expect(inputs.filter((file) => file.startsWith('node:') || file.includes('onnxruntime') || file.includes('sharp'))).toEqual([]);
		const code = result.outputFiles[0].text;
		expect(code).not.toMatch(/(?:from|require\()\s*["']node:/);

		// A bare V8 context: no process, Buffer, require or node:crypto; only TextEncoder, which
		// every browser has (noble's utf8ToBytes uses it).
		const context = vm.createContext({TextEncoder});
		vm.runInContext(`${code}\nglobalThis.fateZeroClipModule = fateZeroClipModule;`, context);
		expect(vm.runInContext('typeof process + typeof Buffer + typeof require', context)).toBe('undefinedundefinedundefined');
		const browser = (context as {fateZeroClipModule: ClipModule}).fateZeroClipModule;

		for (const descriptor of descriptors) {
			const nodeKey = clip.descriptorKey(descriptor);
			expect(browser.descriptorKey(descriptor)).toBe(nodeKey);
			// …and both equal node:crypto's SHA-256 of the canonical JSON.
			expect(createHash('sha256').update(clip.canonicalJson(clip.descriptorKeyInputs(descriptor))).digest('hex')).toBe(nodeKey);
		}
		expect(() => browser.fateZeroClip({source: 'a.mp4', sourcePrompt: 'a', prompt: 'b', edit: {blendThreshold: 'high' as unknown as number}})).toThrow(
			'edit.blendThreshold: expected a number in [0, ∞), got "high"',
		);
	});
});
