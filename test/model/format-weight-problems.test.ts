import {afterEach, describe, expect, it} from 'vitest';
import {GraphBuilder} from '../../plugin/graph/onnx-graph-builder.js';
import {WeightBinder, type WeightProblems} from '../../plugin/graph/weight-binder.js';
import {formatWeightProblems, throwIfWeightProblems} from '../../plugin/model/format-weight-problems.js';
import {readModelFolder} from '../../plugin/model/read-model-folder.js';
import {makeModelFolder, removeFixtures, thrown} from './model-fixture.js';

afterEach(removeFixtures);

const FOLDER = '/models/sd15';
const none: WeightProblems = {missing: [], mismatched: [], extra: []};
const keys = (n: number, prefix: string) => Array.from({length: n}, (_, i) => `${prefix}.${i}.weight`);

describe('formatWeightProblems', () => {
	it('returns null and does not throw when nothing is wrong', () => {
		expect(formatWeightProblems(none, 'unet', FOLDER)).toBeNull();
		expect(() => throwIfWeightProblems(none, 'unet', FOLDER)).not.toThrow();
	});

	it('names the file, tensor, actual and expected shape of a mismatch', () => {
		const problems: WeightProblems = {
			...none,
			mismatched: [{key: 'down_blocks.0.resnets.0.conv1.weight', expected: [320, 320, 3, 3], actual: [320, 320, 1, 1], dtype: 'F16'}],
		};
		const error = thrown(() => throwIfWeightProblems(problems, 'unet', FOLDER));
		expect(error.code).toBe('MODEL_WEIGHTS_MISMATCH');
		expect(error.message).toContain(`The unet weights in ${FOLDER} do not match unet/config.json`);
		expect(error.message).toContain(
			'unet/diffusion_pytorch_model.safetensors: tensor down_blocks.0.resnets.0.conv1.weight has shape [320, 320, 1, 1] but unet/config.json implies [320, 320, 3, 3]',
		);
		expect(error.message).toContain('Download unet/ again');
	});

	it('reports a non-float dtype with the right shape', () => {
		const problems: WeightProblems = {...none, mismatched: [{key: 'text_model.embeddings.position_ids', expected: [1, 77], actual: [1, 77], dtype: 'I64'}]};
		expect(formatWeightProblems(problems, 'text_encoder', FOLDER)!.message).toContain(
			'text_encoder/model.safetensors: tensor text_model.embeddings.position_ids is I64, but weights must be F32, F16 or BF16',
		);
	});

	it('counts missing tensors and lists the first five with shapes and alternative names', () => {
		const missing = keys(12, 'mid_block.attentions').map((key, i) => ({keys: i === 0 ? [key, 'old.name'] : [key], shape: [64, 64]}));
		const message = formatWeightProblems({...none, missing}, 'unet', FOLDER)!.message;
		expect(message).toContain('missing 12 tensors, first: mid_block.attentions.0.weight [64, 64] (or old.name), mid_block.attentions.1.weight [64, 64]');
		expect(message).toContain('mid_block.attentions.4.weight [64, 64] (and 7 more)');
		expect(message).not.toContain('mid_block.attentions.5.weight');
	});

	it('lists unused tensors with a hint about the architecture', () => {
		const message = formatWeightProblems({...none, extra: keys(14, 'add_embedding.linear')}, 'unet', FOLDER)!.message;
		expect(message).toContain('14 tensors no layer uses, first: add_embedding.linear.0.weight');
		expect(message).toContain('(and 9 more)');
		expect(message).toContain('is this an SD-1.x UNet?');
	});

	it('caps mismatches at five and says how many more', () => {
		const mismatched = keys(8, 'up_blocks').map((key) => ({key, expected: [4], actual: [5], dtype: 'F32' as const}));
		const message = formatWeightProblems({...none, mismatched}, 'vae', FOLDER)!.message;
		expect(message).toContain('vae/diffusion_pytorch_model.safetensors: tensor up_blocks.4.weight has shape [5] but vae/config.json implies [4]');
		expect(message).not.toContain('up_blocks.5.weight');
		expect(message).toContain('and 3 more tensors with the wrong shape or dtype');
	});

	it('formats a real WeightBinder report, naming the variant file that holds the tensor', () => {
		const dir = makeModelFolder();
		const model = readModelFolder(dir);
		const binder = new WeightBinder(new GraphBuilder('probe'), model.unet.weights, 'float32');
		binder.param('conv_in.weight', [8, 4, 1, 1]); // wrong: the file has [8, 4, 3, 3]
		binder.param(['conv_out.weight', 'out.2.weight'], [4, 8, 3, 3]); // absent
		const error = thrown(() => throwIfWeightProblems(binder.report(), 'unet', model.dir, model.unet.weights));
		expect(error.code).toBe('MODEL_WEIGHTS_MISMATCH');
		expect(error.message).toContain(`The unet weights in ${dir} do not match unet/config.json`);
		expect(error.message).toContain('unet/diffusion_pytorch_model.safetensors: tensor conv_in.weight has shape [8, 4, 3, 3] but unet/config.json implies [8, 4, 1, 1]');
		expect(error.message).toContain('missing 1 tensor, first: conv_out.weight [4, 8, 3, 3] (or out.2.weight)');
		expect(error.message).toContain('1 tensor no layer uses, first: conv_in.bias');
	});
});
