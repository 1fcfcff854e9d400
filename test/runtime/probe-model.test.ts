import {describe, expect, it} from 'vitest';
import {GraphBuilder} from '../../plugin/graph/onnx-graph-builder.js';
import {PROBE_MODEL_BASE64} from '../../plugin/runtime/probe-model.js';

describe('the provider probe model', () => {
	it('is the bytes GraphBuilder builds for y = x + x (regenerate the constant when the builder changes)', () => {
		const b = new GraphBuilder('provider_probe');
		const x = b.input('x', 'float32', [2]);
		b.output('y', b.op('Add', [x, x]), 'float32', [2]);
		expect(Buffer.from(b.toBytes()).toString('base64')).toBe(PROBE_MODEL_BASE64);
	});
});
