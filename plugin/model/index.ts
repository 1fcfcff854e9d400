export type {ClipTextConfig, SchedulerConfig, UnetConfig, UnetDownBlockType, UnetUpBlockType, VaeConfig} from './component-configs.js';
export {PASS_SD1_FOLDER, type ParsedConfig} from './config-fields.js';
export {findComponentWeights, WEIGHT_STEM, type ComponentWeightFiles, type ModelComponent, type WeightVariant} from './find-component-weights.js';
export {formatWeightProblems, throwIfWeightProblems} from './format-weight-problems.js';
export {computeModelIdentity} from './model-identity.js';
export {parseComponentConfigs, type ComponentConfigs, type RawConfig} from './parse-component-configs.js';
export {parseSchedulerConfig} from './parse-scheduler-config.js';
export {parseTextEncoderConfig} from './parse-text-encoder-config.js';
export {parseUnetConfig} from './parse-unet-config.js';
export {parseVaeConfig, SD1_VAE_SCALING_FACTOR} from './parse-vae-config.js';
export {readComponentWeights} from './read-component-weights.js';
export {readModelFolder, type ModelFolder, type ReadModelFolderOptions} from './read-model-folder.js';
export {
	readFloatTensor,
	readInt64Tensor,
	readSafetensorsIndex,
	readTensorBytes,
	writeSafetensors,
	type SafetensorsEntry,
	type SafetensorsIndex,
	type TensorToWrite,
} from './safetensors-file.js';
export * from './tensor-dtype.js';
