import {FateZeroError} from '../errors/fatezero-error.js';
import type {ClipTextConfig} from '../model/component-configs.js';
import {explicitAttention, gelu, layerNorm, linear, quickGelu, toFloat32, type LayerContext} from './common-layers.js';
import {OnnxType} from './onnx-graph-builder.js';

/** Token count of every SD-1.x prompt: the tokenizer pads/truncates to model_max_length 77. */
export const CLIP_SEQUENCE_LENGTH = 77;

// torch.finfo(dtype).min, what transformers fills the causal mask with. The float32 value would
// overflow to -inf in float16, so each compute type gets its own.
const MASK_FILL = {float32: -3.4028234663852886e38, float16: -65504} as const;

/**
 * transformers 4.25 CLIPTextModel (SD-1.x text_encoder/):
 * `input_ids` int64 [batch, 77] -> `last_hidden_state` float32 [batch, 77, hidden] and
 * `pooler_output` float32 [batch, hidden] (the final state at argmax(input_ids), i.e. the first
 * eos token, exactly as transformers 4.25 picks it).
 */
export const buildTextEncoderGraph = (ctx: LayerContext, config: ClipTextConfig): void => {
	const {b, w} = ctx;
	const hidden = config.hiddenSize;
	if (hidden % config.numAttentionHeads !== 0) {
		throw new FateZeroError(
			'MODEL_CONFIG_INVALID',
			`text_encoder/config.json: hidden_size ${hidden} is not divisible by num_attention_heads ${config.numAttentionHeads}. Use the config.json that came with the weights.`,
		);
	}
	if (config.maxPositionEmbeddings < CLIP_SEQUENCE_LENGTH) {
		throw new FateZeroError(
			'MODEL_UNSUPPORTED',
			`text_encoder/config.json: max_position_embeddings is ${config.maxPositionEmbeddings}, but SD-1.x prompts have ${CLIP_SEQUENCE_LENGTH} tokens. Use an SD-1.x text encoder.`,
		);
	}
	const inputIds = b.input('input_ids', 'int64', ['batch', CLIP_SEQUENCE_LENGTH]);

	const hiddenStates = b.scope('text_model.embeddings', () => {
		const tokenTable = w.param('text_model.embeddings.token_embedding.weight', [config.vocabSize, hidden]);
		const positionTable = w.param('text_model.embeddings.position_embedding.weight', [config.maxPositionEmbeddings, hidden]);
		const tokens = b.op('Gather', [tokenTable, inputIds], {axis: 0}); // [N, 77, hidden]
		// Position ids are always 0..76: a constant instead of the checkpoint's position_ids buffer
		// (which some saves omit).
		const positionIds = b.constInt64(Array.from({length: CLIP_SEQUENCE_LENGTH}, (_, i) => i));
		const positions = b.op('Gather', [positionTable, positionIds], {axis: 0}); // [77, hidden]
		return b.op('Add', [tokens, positions]); // [N, 77, hidden]
	});

	const mask = causalMask(ctx);
	let h = hiddenStates;
	for (let layer = 0; layer < config.numHiddenLayers; layer++) {
		h = encoderLayer(ctx, config, `text_model.encoder.layers.${layer}`, h, mask);
	}
	const lastHiddenState = layerNorm(ctx, 'text_model.final_layer_norm', h, hidden, config.layerNormEps); // [N, 77, hidden]

	const pooled = b.scope('text_model.pooler', () => {
		// argmax over the ids finds the eos token (49407 is the largest id; with eos padding the
		// first maximum wins, as in torch). Ids < 2^24 are exact in float32, and float ArgMax is
		// implemented by every execution provider, int64 is not.
		const ids = b.op('Cast', [inputIds], {to: OnnxType.float32});
		const eos = b.op('ArgMax', [ids], {axis: -1, keepdims: 1, select_last_index: 0}); // [N, 1]
		return b.op('GatherND', [lastHiddenState, eos], {batch_dims: 1}); // [N, hidden]
	});

	b.output('last_hidden_state', toFloat32(ctx, lastHiddenState), 'float32', ['batch', CLIP_SEQUENCE_LENGTH, hidden]);
	b.output('pooler_output', toFloat32(ctx, pooled), 'float32', ['batch', hidden]);
};

/** Additive [1, 1, 77, 77] mask: 0 on and below the diagonal, the dtype's min above it. */
const causalMask = (ctx: LayerContext): string => {
	const n = CLIP_SEQUENCE_LENGTH;
	const fill = MASK_FILL[ctx.computeType];
	const values = new Float32Array(n * n);
	for (let row = 0; row < n; row++) for (let col = row + 1; col < n; col++) values[row * n + col] = fill;
	const mask = ctx.b.constFloat32(values, [1, 1, n, n]);
	return ctx.computeType === 'float16' ? ctx.b.op('Cast', [mask], {to: OnnxType.float16}) : mask;
};

/** CLIPEncoderLayer (pre-LN): x [N, 77, hidden] -> [N, 77, hidden]. */
const encoderLayer = (ctx: LayerContext, config: ClipTextConfig, prefix: string, x: string, mask: string): string =>
	ctx.b.scope(prefix, () => {
		const {b} = ctx;
		const hidden = config.hiddenSize;
		const normed = layerNorm(ctx, `${prefix}.layer_norm1`, x, hidden, config.layerNormEps);
		const q = linear(ctx, `${prefix}.self_attn.q_proj`, normed, hidden, hidden); // [N, 77, hidden]
		const k = linear(ctx, `${prefix}.self_attn.k_proj`, normed, hidden, hidden);
		const v = linear(ctx, `${prefix}.self_attn.v_proj`, normed, hidden, hidden);
		// 77 tokens: the explicit [N, heads, 77, 77] map is tiny, and it takes the causal mask.
		const {output} = explicitAttention(ctx, q, k, v, config.numAttentionHeads, hidden, mask); // [N, 77, hidden]
		const attended = b.op('Add', [x, linear(ctx, `${prefix}.self_attn.out_proj`, output, hidden, hidden)]);

		const normed2 = layerNorm(ctx, `${prefix}.layer_norm2`, attended, hidden, config.layerNormEps);
		const activation = config.hiddenAct === 'gelu' ? gelu : quickGelu;
		const inner = activation(ctx, linear(ctx, `${prefix}.mlp.fc1`, normed2, hidden, config.intermediateSize)); // [N, 77, intermediate]
		return b.op('Add', [attended, linear(ctx, `${prefix}.mlp.fc2`, inner, config.intermediateSize, hidden)]);
	});

/** Graph outputs are float32 whatever the compute type (the host side only handles float32). */
