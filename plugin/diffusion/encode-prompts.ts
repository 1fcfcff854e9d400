import {FateZeroError} from '../errors/fatezero-error.js';
import {int64Tensor} from '../runtime/host-tensor.js';
import type {ClipTokenizer} from './clip-tokenizer.js';
import type {RunnableSession} from './runnable-session.js';

export type EncodedPrompts = {
	/** [P, 77, D] text-encoder last hidden states, one row block per prompt. */
	states: Float32Array;
	shape: [number, number, number];
	/** Truncation warnings, one per prompt that was too long. */
	warnings: string[];
};

/** CLIP text states for each prompt, padded to 77 tokens as the SD-1.x pipeline does. */
export const encodePrompts = async (
	textEncoder: RunnableSession,
	tokenizer: ClipTokenizer,
	prompts: string[],
): Promise<EncodedPrompts> => {
	if (prompts.length === 0) throw new FateZeroError('INVALID_INPUT', 'encodePrompts needs at least one prompt.');
	const warnings: string[] = [];
	const ids = prompts.flatMap((prompt) => tokenizer.encode(prompt, {onWarning: (w) => warnings.push(w)}).ids);
	const length = tokenizer.maxLength;
	const {last_hidden_state: states} = await textEncoder.run({input_ids: int64Tensor(ids, [prompts.length, length])});
	return {states: states.data as Float32Array, shape: states.dims as [number, number, number], warnings};
};
