import type {ClipDescriptor} from '../clip/clip-descriptor.js';
import type {FateZeroEdit} from '../fatezero/run-fatezero.js';
import {ATTENTION_PRESETS, type ReferenceFrameSpec} from '../clip/reference-frames.js';
import type {CrossReplaceSteps} from '../fatezero/prompt-to-prompt/time-windows.js';

/** The descriptor's attention as the engine's reference list. */
export const descriptorReferences = (descriptor: ClipDescriptor): readonly ReferenceFrameSpec[] =>
	typeof descriptor.attention === 'string' ? ATTENTION_PRESETS[descriptor.attention] : descriptor.attention;

/** The descriptor's edit block as one engine edit (the descriptor writes `default`, the official configs `default_`). */
export const descriptorEdit = (descriptor: ClipDescriptor): FateZeroEdit => {
	const {edit} = descriptor;
	let crossReplace: CrossReplaceSteps;
	if (typeof edit.crossReplace === 'number' || Array.isArray(edit.crossReplace)) {
		crossReplace = edit.crossReplace;
	} else {
		const {default: fallback, ...words} = edit.crossReplace;
		crossReplace = {default_: fallback, ...words};
	}
	const reweightWords = Object.keys(edit.reweight);
	return {
		prompt: descriptor.prompt,
		crossReplace,
		selfReplace: edit.selfReplace,
		reweight: reweightWords.length ? {words: reweightWords, values: reweightWords.map((w) => edit.reweight[w])} : null,
		blendWords: edit.blendWords,
		blendThreshold: edit.blendThreshold,
		latentBlend: edit.latentBlend,
		controller: edit.controller,
	};
};
