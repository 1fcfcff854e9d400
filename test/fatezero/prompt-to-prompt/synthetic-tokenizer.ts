import {ClipTokenizer} from '../../../plugin/diffusion/clip-tokenizer.js';
import {buildSyntheticClipVocab} from '../../../plugin/model-generator/synthetic-clip-vocab.js';

/** The generated tiny model's tokenizer (synthetic CLIP-layout vocab): runs without the golden data. */
export const syntheticTokenizer = (): ClipTokenizer => {
	const {vocab, merges} = buildSyntheticClipVocab();
	return new ClipTokenizer({vocab, merges: `#version: 0.2\n${merges.join('\n')}\n`});
};
