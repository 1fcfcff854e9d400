/**
 * Typed views of the diffusers / transformers config.json files of an SD-1.x model folder, with
 * the library defaults applied. Parsing and validation live in parse-component-configs.ts; the
 * graph builders consume only these types.
 */

/** transformers CLIPTextConfig (text_encoder/config.json). */
export type ClipTextConfig = {
	vocabSize: number;
	hiddenSize: number;
	intermediateSize: number;
	numHiddenLayers: number;
	numAttentionHeads: number;
	maxPositionEmbeddings: number;
	hiddenAct: 'quick_gelu' | 'gelu';
	layerNormEps: number;
};

export type UnetDownBlockType = 'CrossAttnDownBlock2D' | 'DownBlock2D';
export type UnetUpBlockType = 'CrossAttnUpBlock2D' | 'UpBlock2D';

/** diffusers UNet2DConditionModel (unet/config.json), the SD-1.x/2.x subset we build. */
export type UnetConfig = {
	inChannels: number;
	outChannels: number;
	downBlockTypes: UnetDownBlockType[];
	upBlockTypes: UnetUpBlockType[];
	blockOutChannels: number[];
	layersPerBlock: number;
	/** Number of heads per block (diffusers' attention_head_dim in SD-1.x semantics), per down block. */
	attentionHeads: number[];
	crossAttentionDim: number;
	normNumGroups: number;
	normEps: number;
	useLinearProjection: boolean;
	flipSinToCos: boolean;
	freqShift: number;
	downsamplePadding: number;
	sampleSize: number;
};

/** diffusers AutoencoderKL (vae/config.json). */
export type VaeConfig = {
	inChannels: number;
	outChannels: number;
	latentChannels: number;
	blockOutChannels: number[];
	layersPerBlock: number;
	normNumGroups: number;
	sampleSize: number;
	/** 0.18215 for SD-1.x; read from config when present. */
	scalingFactor: number;
};

/** diffusers DDIMScheduler (scheduler/scheduler_config.json). */
export type SchedulerConfig = {
	numTrainTimesteps: number;
	betaStart: number;
	betaEnd: number;
	betaSchedule: 'scaled_linear' | 'linear';
	setAlphaToOne: boolean;
	stepsOffset: number;
	clipSample: boolean;
	predictionType: 'epsilon';
};
