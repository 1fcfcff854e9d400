import path from 'node:path';
import {build} from 'esbuild';
import {describe, expect, it} from 'vitest';

describe('package entry points', () => {
	it('the browser entry bundles for the browser without any node: module or onnxruntime', async () => {
		const result = await build({
			entryPoints: [path.resolve('plugin/index.ts')],
			bundle: true,
			platform: 'browser',
			format: 'esm',
			write: false,
			metafile: true,
			logLevel: 'silent',
		});
		const inputs = Object.keys(result.metafile.inputs);
		expect(inputs.some((file) => file.includes('onnxruntime'))).toBe(false);
		expect(inputs.some((file) => file.includes('sharp'))).toBe(false);
		expect(result.outputFiles[0].text).not.toMatch(/from ["']node:/);
	});

	it('the node entry loads and exposes the pipeline', async () => {
		const node = await import('../plugin/node.js');
		expect(typeof node.loadStableDiffusion).toBe('function');
		expect(typeof node.generateRandomModel).toBe('function');
		expect(typeof node.ClipTokenizer).toBe('function');
	});
});
