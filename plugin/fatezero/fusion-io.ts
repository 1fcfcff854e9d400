import {ENGINE_DEFAULTS} from '../clip/engine-defaults.js';

/**
 * Names of the extra graph inputs and outputs the FateZero UNet graphs carry. Per-step controls
 * have the edit targets T as their first dimension; F is the clip's frame count.
 */
export const FUSION_IO = {
	/** [F, Qm, 77]: source cross-attention of the mask layers, mean over layers and heads (inversion output). */
	maskMaps: 'mask_maps',
	/** [T, F, Qm, 77]: the same for each target's conditional branch (editing output; latent blend). */
	targetMaskMaps: 'target_mask_maps',
	/** [T, 77, 77]: token mapper source -> target (Replace mapper, or one-hot Refine mapper). */
	crossMapper: 'control.cross_mapper',
	/** [T, 77]: 1 where the mapped source map is used (Refine alphas; all ones for Replace). */
	crossRefine: 'control.cross_refine',
	/** [T, 77]: Reweight equaliser (ones without reweighting). */
	crossEqualizer: 'control.cross_equalizer',
	/** [T, 77]: cross-attention replacement window α at this step (1 = replace that token's map). */
	crossWindow: 'control.cross_window',
	/** [T]: 1 inside the self-attention replacement window at this step. */
	selfWindow: 'control.self_window',
	/** [T, F, Q] at each fused resolution: blend mask M (1 = keep the edit's self-attention). */
	blendMask: (height: number, width: number) => `control.blend_mask.${height}x${width}`,
	/** [1, 77, D]: source prompt states (stored mode: cross-attention keys are recomputed from them). */
	sourceText: 'source_text',
	/** [F, Q, C] / [F, K, C]: a fused layer's source queries and keys, stored at inversion. */
	storedQuery: (path: string) => `stored_q.${path}`,
	storedKey: (path: string) => `stored_k.${path}`,
	/** The same, as outputs of group 0 at inversion (an ONNX name is either an input or an output). */
	recordedQuery: (path: string) => `recorded_q.${path}`,
	recordedKey: (path: string) => `recorded_k.${path}`,
} as const;

/**
 * Where the source attention of the fused layers comes from. One UNet graph per mode serves both
 * inversion (a batch of one clip, T = 0 targets) and editing:
 * - 'recompute': batch [source F | uncond F | cond T·F]; the source element re-runs the inversion
 *   call UNet(z_inv[N-1-i], t_i, source) and its probabilities feed the targets inside the graph.
 * - 'stored': batch [uncond F | cond T·F]; the source probabilities are recomputed from the
 *   queries/keys that inversion (batch [source F]) output and the host kept.
 * Group 0's mask-layer maps (and, in stored mode, its queries/keys) are outputs: fetched during
 * inversion, ignored while editing.
 */
export type FusionMode = 'recompute' | 'stored';

/**
 * Element type of the stored source queries/keys (stored mode), at the graph boundary and in RAM:
 * 'float16' halves the memory (≈132 MB per step at 256² × 8 frames); 'float32' gives exactly the
 * recompute-mode result.
 */
export type StoragePrecision = 'float16' | 'float32';

export const DEFAULT_STORAGE_PRECISION: StoragePrecision = ENGINE_DEFAULTS.storagePrecision;
