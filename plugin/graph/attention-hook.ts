import type {LayerContext} from './common-layers.js';

/**
 * Every attention layer of the UNet calls the hook with one AttentionSite. This is the port
 * where FateZero's work happens (the ONNX counterpart of diffusers' attention processors, keyed by
 * the same module paths): a hook may read the probabilities out, replace or blend them with
 * injected maps, or compute the layer differently. Returning `null` keeps the default path
 * (memory-light com.microsoft.MultiHeadAttention, no probabilities materialised).
 */
export type AttentionSite = {
	/** diffusers module path, e.g. `up_blocks.1.attentions.0.transformer_blocks.0.attn2`. */
	path: string;
	kind: 'self' | 'cross';
	placeInUnet: 'down' | 'mid' | 'up';
	/** Resolution level: 0 at the latent size, 1 at half of it, … */
	level: number;
	/** Inner dim of the transformer (= heads × head dim). */
	channels: number;
	heads: number;
	/** Whether the self-attention keys/values come from the clip's reference frames. */
	usesReferenceFrames: boolean;
	/** [N, Sq, C] projected queries. */
	query: string;
	/** [N, Sk, C] projected keys (for reference-frame self-attention: Sk = R·Sq). */
	key: string;
	/** [N, Sk, C] projected values. */
	value: string;
};

export type AttentionHook = {
	/** Returns the attention output [N, Sq, C] (before to_out), or null for the default path. */
	attend(ctx: LayerContext, site: AttentionSite): string | null;
	/**
	 * Called before each up block (`index` in up_blocks): may return an int64 [1] count of leading
	 * batch rows that no later layer needs (FateZero's source element once its last fused layer
	 * has run). The UNet then drops those rows from everything it carries, so the remaining blocks
	 * run on a smaller batch and `noise_pred` has that many rows fewer. Rows must make whole clips.
	 */
	leadingRowsToDrop?(ctx: LayerContext, upBlock: {index: number}): string | null;
	/** Called once after the UNet is built, e.g. to declare outputs gathered across layers. */
	finish?(ctx: LayerContext): void;
};
