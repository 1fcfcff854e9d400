import {readFile} from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import {FateZeroError} from '../errors/fatezero-error.js';
import type {HostTensor} from './host-tensor.js';
import type {ExecutionProviderName, RuntimeOptions, SessionSpec} from './session-spec.js';

/** A live ORT session in this thread. Call dispose() when done: sessions hold the weights. */
export type OrtSession = {
	label: string;
	provider: ExecutionProviderName;
	inputNames: readonly string[];
	outputNames: readonly string[];
	run(feeds: Record<string, HostTensor>, fetches?: string[]): Promise<Record<string, HostTensor>>;
	dispose(): Promise<void>;
};

const toOrt = (t: HostTensor) => new ort.Tensor(t.type, t.data, t.dims);

const fromOrt = (t: ort.Tensor): HostTensor => {
	const dims = [...t.dims];
	switch (t.type) {
		case 'float32':
			return {type: 'float32', dims, data: t.data as Float32Array};
		case 'int64':
			return {type: 'int64', dims, data: t.data as BigInt64Array};
		case 'int32':
			return {type: 'int32', dims, data: t.data as Int32Array};
		default:
			throw new FateZeroError('INFERENCE_FAILED', `Output of type ${t.type} is not supported at the graph boundary; graphs must return float32.`);
	}
};

export const createOrtSession = async (spec: SessionSpec, options: RuntimeOptions = {}): Promise<OrtSession> => {
	const provider = options.executionProvider ?? 'cpu';
	const externalData = await Promise.all(
		spec.externalData.map(async ({location, file}) => ({path: location, data: await readFile(file)})),
	);
	const sessionOptions: ort.InferenceSession.SessionOptions = {
		executionProviders: [provider],
		graphOptimizationLevel: 'all',
		externalData,
	};
	if (options.intraOpThreads !== undefined) sessionOptions.intraOpNumThreads = options.intraOpThreads;
	let session: ort.InferenceSession;
	try {
		session =
			typeof spec.graph === 'string'
				? await ort.InferenceSession.create(spec.graph, sessionOptions)
				: await ort.InferenceSession.create(spec.graph, sessionOptions);
	} catch (error) {
		throw new FateZeroError('INFERENCE_FAILED', `Could not create the ${spec.label} session on ${provider}: ${(error as Error).message}`, {cause: error});
	}
	let disposed = false;
	return {
		label: spec.label,
		provider,
		inputNames: session.inputNames,
		outputNames: session.outputNames,
		async run(feeds, fetches) {
			if (disposed) throw new FateZeroError('SESSION_DISPOSED', `The ${spec.label} session was disposed; create a new one.`);
			const missing = session.inputNames.filter((name) => !(name in feeds));
			const unknown = Object.keys(feeds).filter((name) => !session.inputNames.includes(name));
			if (missing.length || unknown.length) {
				// ORT silently ignores unknown feeds: a typo would drop an input without a word.
				throw new FateZeroError(
					'INVALID_INPUT',
					`The ${spec.label} session got the wrong inputs: missing [${missing.join(', ')}], unknown [${unknown.join(', ')}]. It takes [${session.inputNames.join(', ')}].`,
				);
			}
			const ortFeeds: Record<string, ort.Tensor> = {};
			for (const [name, tensor] of Object.entries(feeds)) ortFeeds[name] = toOrt(tensor);
			let results: ort.InferenceSession.ReturnType;
			try {
				results = fetches ? await session.run(ortFeeds, fetches) : await session.run(ortFeeds);
			} catch (error) {
				const shapes = Object.entries(feeds)
					.map(([name, t]) => `${name}: ${t.type}[${t.dims.join(', ')}]`)
					.join('; ');
				throw new FateZeroError('INFERENCE_FAILED', `The ${spec.label} session failed (${shapes}): ${(error as Error).message}`, {cause: error});
			}
			const out: Record<string, HostTensor> = {};
			for (const [name, tensor] of Object.entries(results)) out[name] = fromOrt(tensor);
			return out;
		},
		async dispose() {
			if (disposed) return;
			disposed = true;
			await session.release();
		},
	};
};
