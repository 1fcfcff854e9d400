import type {PromptEdit} from './prompt-to-prompt/build-prompt-edit.js';

/** One editing prompt with everything that shapes its fusion (official p2p_config for one prompt). */
export type FateZeroTarget = {
	prompt: string;
	/** make_controller's data: mapper, equalizer, windows, blend rows (prompt-to-prompt/). */
	edit: PromptEdit;
	/** blend_th[0]: the self-attention blend mask threshold. */
	blendThreshold: number;
	/** blend_self_attention: blend words make a self-attention mask (official: only when set). */
	blendSelfAttention: boolean;
	/** blend_latents: the optional latent blend (spec §2.6). */
	latentBlend: boolean;
};
