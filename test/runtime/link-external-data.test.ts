import {mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {linkExternalData} from '../../plugin/runtime/link-external-data.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'fatezero-link-'));
afterAll(() => rmSync(root, {recursive: true, force: true}));

describe('linkExternalData', () => {
	it('hard-links the graph and the weight files where the graph expects them, and relinks replaced weights', () => {
		const graph = path.join(root, 'unet.onnx');
		const weights = path.join(root, 'model', 'weights.safetensors');
		writeFileSync(graph, 'graph');
		rmSync(path.dirname(weights), {recursive: true, force: true});
		mkdirSync(path.dirname(weights), {recursive: true});
		writeFileSync(weights, 'v1');
		const spec = {label: 'x', graph, externalData: [{location: 'unet/w.safetensors', file: weights}]};
		const linked = linkExternalData(spec)!;
		expect(linked).toBe(path.join(`${graph}.linked`, 'model.onnx'));
		const link = path.join(`${graph}.linked`, 'unet/w.safetensors');
		expect(statSync(link).ino).toBe(statSync(weights).ino);
		// the user replaces the file (new inode): the link follows on the next session
		rmSync(weights);
		writeFileSync(weights, 'v2');
		expect(linkExternalData(spec)).toBe(linked);
		expect(statSync(link).ino).toBe(statSync(weights).ino);
	});

	it('returns null (the caller falls back to buffers) for in-memory graphs or impossible links', () => {
		expect(linkExternalData({label: 'x', graph: new Uint8Array(1), externalData: []})).toBeNull();
		expect(linkExternalData({label: 'x', graph: path.join(root, 'g.onnx'), externalData: [{location: 'w', file: path.join(root, 'missing')}]})).toBeNull();
	});
});
