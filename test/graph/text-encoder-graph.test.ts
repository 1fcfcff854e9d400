import {readFileSync} from 'node:fs';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import type {LayerContext} from '../../plugin/graph/common-layers.js';
import {GraphBuilder} from '../../plugin/graph/onnx-graph-builder.js';
import {CLIP_SEQUENCE_LENGTH, buildTextEncoderGraph} from '../../plugin/graph/text-encoder-graph.js';
import {WeightBinder} from '../../plugin/graph/weight-binder.js';
import type {ClipTextConfig} from '../../plugin/model/component-configs.js';
import {parseTextEncoderConfig} from '../../plugin/model/parse-text-encoder-config.js';
import {readSafetensorsIndex} from '../../plugin/model/safetensors-file.js';
import type {HostTensor} from '../../plugin/runtime/host-tensor.js';
import {createOrtSession, type OrtSession} from '../../plugin/runtime/ort-session.js';
import {GoldenFile, goldenDir, goldenSkipReason, hasGolden, relativeError} from '../helpers/golden.js';

// tiny-sd/text_encoder/config.json through the parser (its own tests check the parsed values); read
// lazily, since the golden folder may be absent.
const tinyConfig = (): ClipTextConfig => {
	const file = path.join(goldenDir, 'tiny-sd/text_encoder/config.json');
	return parseTextEncoderConfig(JSON.parse(readFileSync(file, 'utf8')), file).config;
};

const LOCATION = 'text_encoder/model.safetensors';
const TOLERANCE = 1e-4;

describe.skipIf(!hasGolden)(`text encoder graph vs transformers 4.25 on tiny-sd${hasGolden ? '' : ` (${goldenSkipReason})`}`, () => {
	let ctx: LayerContext;
	let w: WeightBinder;
	let session: OrtSession;
	let golden: GoldenFile;
	let outputs: Record<string, HostTensor>;

	beforeAll(async () => {
		const file = path.join(goldenDir, 'tiny-sd', LOCATION);
		const index = readSafetensorsIndex(file);
		const b = new GraphBuilder('text_encoder');
		w = new WeightBinder(b, [{location: LOCATION, index}], 'float32');
		ctx = {b, w, computeType: 'float32'};
		buildTextEncoderGraph(ctx, tinyConfig());
		session = await createOrtSession({label: 'text encoder (tiny-sd)', graph: b.toBytes(), externalData: [{location: LOCATION, file}]});
		golden = new GoldenFile('components/text_encoder.safetensors');
		const ids = golden.int64('input_ids');
		outputs = await session.run({input_ids: {type: 'int64', dims: ids.shape, data: ids.data}});
	});

	afterAll(async () => {
		await session?.dispose();
	});

	it('binds every weight of the checkpoint (position_ids buffer ignored)', () => {
		const report = w.report([/position_ids$/]);
		expect(report.missing).toEqual([]);
		expect(report.mismatched).toEqual([]);
		expect(report.extra).toEqual([]);
	});

	it('has the documented inputs and outputs', () => {
		expect(session.inputNames).toEqual(['input_ids']);
		expect([...session.outputNames].sort()).toEqual(['last_hidden_state', 'pooler_output']);
		expect(outputs.last_hidden_state.dims).toEqual([4, CLIP_SEQUENCE_LENGTH, 32]);
		expect(outputs.pooler_output.dims).toEqual([4, 32]);
	});

	it.each(['last_hidden_state', 'pooler_output'])(`%s matches the golden within ${TOLERANCE} relative`, (name) => {
		const reference = golden.float(name);
		const error = relativeError(outputs[name].data as Float32Array, reference.data);
		console.log(`text encoder ${name}: relative error ${error.toExponential(2)} (4 prompts)`);
		expect(error).toBeLessThan(TOLERANCE);
	});

	it('matches the golden per prompt, including the empty prompt', () => {
		const hidden = golden.float('last_hidden_state');
		const pooled = golden.float('pooler_output');
		const perPrompt = 77 * 32;
		for (let p = 0; p < 4; p++) {
			const actual = (outputs.last_hidden_state.data as Float32Array).subarray(p * perPrompt, (p + 1) * perPrompt);
			expect(relativeError(actual, hidden.data.subarray(p * perPrompt, (p + 1) * perPrompt))).toBeLessThan(TOLERANCE);
			const actualPooled = (outputs.pooler_output.data as Float32Array).subarray(p * 32, (p + 1) * 32);
			expect(relativeError(actualPooled, pooled.data.subarray(p * 32, (p + 1) * 32))).toBeLessThan(TOLERANCE);
		}
	});
});
