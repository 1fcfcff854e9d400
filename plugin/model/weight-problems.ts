import type {SafetensorsIndex} from './safetensors-file.js';
import type {SafetensorsDtype} from './tensor-dtype.js';

// What a model folder's weights are checked against. The graph's WeightBinder makes the requests;
// the types live here, below the graph layer, because the model folder reader reports on them.

/** One safetensors file as the graph sees it: `location` is the external-data key. */
export type WeightFile = {location: string; index: SafetensorsIndex};

export type WeightRequest = {
	/** Preferred key first, then the alternatives older saves use. */
	keys: string[];
	shape: number[];
};

export type WeightProblems = {
	missing: WeightRequest[];
	mismatched: {key: string; expected: number[]; actual: number[]; dtype: SafetensorsDtype}[];
	extra: string[];
};
