import type {ReferenceFrameSpec} from '../../clip/reference-frames.js';

/**
 * What the official code (FateZero HEAD 9b6cb7b) uses when a config leaves a key out, with where
 * each value comes from. Where the official code has no default (it would stop with a KeyError),
 * the value is the one every shipped config writes, and the parser warns.
 */
export const OFFICIAL_DEFAULTS = {
	/** ImageSequenceDataset.n_sample_frame. */
	nSampleFrame: 8,
	/** ImageSequenceDataset.sampling_rate. */
	samplingRate: 1,
	/** ImageSequenceDataset.start_sample_frame. */
	startSampleFrame: 0,
	/** ImageSequenceDataset.image_size. */
	imageSize: 512,
	/** test_fatezero.py reads editing_config['num_inference_steps'] without a default; every shipped config sets it (50, or 10 for the low-resource ones). */
	numInferenceSteps: 50,
	/** P2pSampleLogger.guidance_scale default (every shipped config writes 7.5). */
	guidanceScale: 7,
	/** p2preplace_edit: kwargs.get('is_replace_controller', True). */
	isReplaceController: true,
	/** make_controller has no default (KeyError); the engine's default and the typical value (spec §4). */
	crossReplaceSteps: 0.8,
	/** As crossReplaceSteps. */
	selfReplaceSteps: 0.8,
	/** p2preplace_edit: kwargs.get('blend_th', (0.3, 0.3)); SpatialBlender uses th[0]. */
	blendTh: 0.3,
	/** p2preplace_edit: kwargs.get('blend_self_attention', None), i.e. off. */
	blendSelfAttention: false,
	/** p2preplace_edit: kwargs.get('blend_latents', None), i.e. off. */
	blendLatents: false,
	/** P2pSampleLogger.prompt2prompt_edit default False: no attention fusion at all. */
	prompt2promptEdit: false,
	/** SparseCausalAttention.forward default: previous frame, then frame 0. */
	sparseCausalAttentionIndex: [-1, 'first'] as ReferenceFrameSpec[],
	/** No least_sc_channel: every level uses SparseCausalAttention_index. */
	leastScChannel: 0,
} as const;
