import type {ClipTextConfig} from './component-configs.js';
import {ConfigFields, unsupportedModel, type ParsedConfig} from './config-fields.js';

/** FateZero pads every prompt to CLIP's 77 tokens. */
const PROMPT_TOKENS = 77;

const HIDDEN_ACTS: readonly ClipTextConfig['hiddenAct'][] = ['quick_gelu', 'gelu'];

/**
 * text_encoder/config.json (transformers CLIPTextConfig) -> ClipTextConfig, with transformers'
 * defaults. A full CLIPConfig (model_type "clip") is read from its text_config, as
 * CLIPTextModel.from_pretrained does. The size keys are required although transformers has
 * defaults: those are CLIP ViT-B's, never an SD text encoder's, so a file without them is broken.
 */
export const parseTextEncoderConfig = (raw: unknown, path: string): ParsedConfig<ClipTextConfig> => {
	let f = ConfigFields.of(raw, path, 'transformers CLIPTextConfig');
	const modelType = f.string('model_type');
	if (modelType === 'clip' && f.has('text_config')) {
		f = f.nested('text_config', 'transformers CLIPTextConfig');
	} else if (modelType !== 'clip_text_model') {
		const architectures = Array.isArray(f.raw.architectures) ? ` (${f.raw.architectures.join(', ')})` : '';
		throw unsupportedModel(path, `model_type is ${JSON.stringify(modelType)}${architectures}; an SD-1.x text encoder is a CLIPTextModel with model_type "clip_text_model"`);
	}
	const hiddenAct = f.string('hidden_act', 'quick_gelu');
	if (!HIDDEN_ACTS.includes(hiddenAct as ClipTextConfig['hiddenAct'])) {
		throw unsupportedModel(path, `hidden_act is ${JSON.stringify(hiddenAct)}; supported: ${HIDDEN_ACTS.join(', ')}`);
	}
	const hiddenSize = f.int('hidden_size');
	const numAttentionHeads = f.int('num_attention_heads');
	if (hiddenSize % numAttentionHeads !== 0) {
		throw f.invalid('num_attention_heads', numAttentionHeads, `a divisor of hidden_size ${hiddenSize}`);
	}
	const maxPositionEmbeddings = f.int('max_position_embeddings', PROMPT_TOKENS);
	if (maxPositionEmbeddings < PROMPT_TOKENS) {
		throw unsupportedModel(path, `max_position_embeddings is ${maxPositionEmbeddings}; FateZero encodes ${PROMPT_TOKENS}-token prompts`);
	}
	const config: ClipTextConfig = {
		vocabSize: f.int('vocab_size', 49408),
		hiddenSize,
		intermediateSize: f.int('intermediate_size'),
		numHiddenLayers: f.int('num_hidden_layers'),
		numAttentionHeads,
		maxPositionEmbeddings,
		hiddenAct: hiddenAct as ClipTextConfig['hiddenAct'],
		layerNormEps: f.positiveNumber('layer_norm_eps', 1e-5),
	};
	return {config, warnings: []};
};
