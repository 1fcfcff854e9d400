import {FateZeroError} from '../errors/fatezero-error.js';
import type {HostTensor} from './host-tensor.js';

/** What a session declares about one input: element type and shape (strings are symbolic dims). */
export type InputSignature = {name: string; type?: string; shape?: readonly (number | string)[]};

const describe = (t: HostTensor) => `${t.type}[${t.dims.join(', ')}]`;

/**
 * Checks feeds against the session's inputs before they reach ORT, because ORT silently ignores
 * unknown feed names (a typo in an injection input would drop the injection without a word) and
 * its own type/shape errors do not say which session they came from.
 */
export const checkFeeds = (label: string, inputs: readonly InputSignature[], feeds: Record<string, HostTensor>): void => {
	const names = inputs.map((i) => i.name);
	const missing = names.filter((name) => !(name in feeds));
	const unknown = Object.keys(feeds).filter((name) => !names.includes(name));
	if (missing.length || unknown.length) {
		throw new FateZeroError(
			'INVALID_INPUT',
			`The ${label} session got the wrong inputs: missing [${missing.join(', ')}], unknown [${unknown.join(', ')}]. It takes [${names.join(', ')}].`,
		);
	}
	for (const input of inputs) {
		const tensor = feeds[input.name];
		const count = tensor.dims.reduce((a, b) => a * b, 1);
		if (count !== tensor.data.length) {
			throw new FateZeroError(
				'INVALID_INPUT',
				`Input ${input.name} of the ${label} session has ${tensor.data.length} values but shape [${tensor.dims.join(', ')}] needs ${count}. Fix the dims or the data.`,
			);
		}
		if (input.type !== undefined && input.type !== tensor.type) {
			throw new FateZeroError(
				'INVALID_INPUT',
				`Input ${input.name} of the ${label} session is ${input.type}, but it was fed ${describe(tensor)}. Convert the feed to ${input.type}.`,
			);
		}
		// ORT reports an input declared without any shape as rank 0: only check declared shapes.
		const shape = input.shape?.length ? input.shape : undefined;
		const wrongDim = shape && (shape.length !== tensor.dims.length || shape.some((d, i) => typeof d === 'number' && d !== tensor.dims[i]));
		if (wrongDim) {
			throw new FateZeroError(
				'INVALID_INPUT',
				`Input ${input.name} of the ${label} session has shape [${shape.join(', ')}], but it was fed ${describe(tensor)}. Feed a tensor of that shape.`,
			);
		}
	}
};

/** Unknown fetch names are a caller bug; name them instead of letting ORT fail vaguely. */
export const checkFetches = (label: string, outputNames: readonly string[], fetches: readonly string[] | undefined): void => {
	if (!fetches) return;
	const unknown = fetches.filter((name) => !outputNames.includes(name));
	if (unknown.length || fetches.length === 0) {
		throw new FateZeroError(
			'INVALID_INPUT',
			`fetches: [${fetches.join(', ')}] ${unknown.length ? `names unknown outputs [${unknown.join(', ')}]` : 'is empty'} of the ${label} session. It returns [${outputNames.join(', ')}].`,
		);
	}
};
