import {readdirSync, statSync} from 'node:fs';
import {readFile} from 'node:fs/promises';
import path from 'node:path';
// first: ORT must see the telemetry switch before its environment exists
import './disable-ort-telemetry.js';
import * as ort from 'onnxruntime-node';
import {FateZeroError} from '../errors/fatezero-error.js';
import {parseExecutionProvider, requireExecutionProvider} from './execution-providers.js';
import {checkFeeds, checkFetches, type InputSignature} from './feed-check.js';
import type {HostTensor} from './host-tensor.js';
import {defaultThreadCount, type ThreadCount} from './default-thread-count.js';
import {linkExternalData} from './link-external-data.js';
import {essentialReason, fixFor, isProviderLoadFailure, missingLibraryIn, providerUnavailableError} from './provider-diagnosis.js';
import type {ExecutionProviderName, RuntimeOptions, SessionSpec} from './session-spec.js';

/**
 * A live ORT session in this thread. `run` blocks this thread's event loop for the whole
 * inference (see onnx-notes §1); the plugin uses it only inside the inference worker, tests may
 * use it directly. Call dispose() when done: sessions hold the weights.
 */
export type OrtSession = {
	label: string;
	/** The provider the session was created with; it was verified to bind (see requireExecutionProvider). */
	provider: ExecutionProviderName;
	/** The intra-op thread count handed to ORT, and where it came from. */
	threads: ThreadCount;
	inputNames: readonly string[];
	outputNames: readonly string[];
	run(feeds: Record<string, HostTensor>, options?: {fetches?: readonly string[]}): Promise<Record<string, HostTensor>>;
	/** With RuntimeOptions.profileFilePrefix: ends profiling and returns the profile's path (else null). */
	endProfiling(): string | null;
	dispose(): Promise<void>;
};

/** The newest `<prefix>_*.json` ORT wrote (it appends a timestamp to the prefix). */
const newestProfile = (prefix: string): string | null => {
	const dir = path.dirname(path.resolve(prefix));
	const base = path.basename(prefix);
	const files = readdirSync(dir)
		.filter((name) => name.startsWith(`${base}_`) && name.endsWith('.json'))
		.map((name) => path.join(dir, name))
		.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
	return files[0] ?? null;
};

const toOrt = (t: HostTensor) => new ort.Tensor(t.type, t.data, t.dims);

const fromOrt = (name: string, label: string, t: ort.Tensor): HostTensor => {
	const dims = [...t.dims];
	switch (t.type) {
		case 'float32':
			return {type: 'float32', dims, data: t.data as Float32Array};
		case 'float16':
			// raw halves (Uint16Array where the runtime has no Float16Array)
			return {type: 'float16', dims, data: new Uint16Array((t.data as Uint16Array).buffer, (t.data as Uint16Array).byteOffset, (t.data as Uint16Array).length)};
		case 'int64':
			return {type: 'int64', dims, data: t.data as BigInt64Array};
		case 'int32':
			return {type: 'int32', dims, data: t.data as Int32Array};
		default:
			// compute-type casts happen inside the graph: the boundary is float32, raw float16 and ints.
			throw new FateZeroError(
				'INFERENCE_FAILED',
				`Output ${name} of the ${label} session is ${t.type}; graphs must return float32, float16 or integers (add a Cast before the output).`,
			);
	}
};

const signatureOf = (metadata: readonly ort.InferenceSession.ValueMetadata[]): InputSignature[] =>
	metadata.map((m) => (m.isTensor ? {name: m.name, type: m.type, shape: m.shape} : {name: m.name}));

/**
 * `resolvedThreads`: the count the inference runtime already resolved (with where it came from);
 * without it the count is resolved here from `options.intraOpThreads`, FATEZERO_THREADS and the cores.
 */
export const createOrtSession = async (spec: SessionSpec, options: RuntimeOptions = {}, resolvedThreads?: ThreadCount): Promise<OrtSession> => {
	const provider = parseExecutionProvider(options.executionProvider);
	// Refuse before loading weights: ORT would otherwise fail late, and only with a vague message.
	await requireExecutionProvider(provider);
	const linkedGraph = linkExternalData(spec);
	const externalData = linkedGraph
		? []
		: await Promise.all(spec.externalData.map(async ({location, file}) => ({path: location, data: await readFile(file)})));
	// Always explicit: ORT's own default left one core of two idle (onnx-notes, issue 17).
	const threads = resolvedThreads ?? defaultThreadCount({threads: options.intraOpThreads});
	const sessionOptions: ort.InferenceSession.SessionOptions = {
		// Only the requested provider: ORT still places nodes the provider has no kernel for on CPU,
		// which is fine, but a provider that fails to load throws instead of falling back.
		executionProviders: [provider],
		graphOptimizationLevel: 'all',
		// ORT's memory pattern preallocates, from the second run with the same shapes on, one block
		// for every planned intermediate: measured on the FateZero UNet at 256² × 8 frames it raised
		// the peak beyond the weights from 0.55 to 1.0 GB, with no speed gain.
		enableMemPattern: false,
		externalData,
		intraOpNumThreads: threads.threads,
		...(options.profileFilePrefix ? {enableProfiling: true, profileFilePrefix: path.resolve(options.profileFilePrefix)} : {}),
	};
	let session: ort.InferenceSession;
	try {
		const graph = linkedGraph ?? spec.graph;
		session = typeof graph === 'string' ? await ort.InferenceSession.create(graph, sessionOptions) : await ort.InferenceSession.create(graph, sessionOptions);
	} catch (error) {
		const message = (error as Error).message;
		if (provider !== 'cpu' && isProviderLoadFailure(message)) {
			const missingLibrary = missingLibraryIn(message);
			throw providerUnavailableError({provider, reason: essentialReason(message), missingLibrary, fix: fixFor(provider, missingLibrary)}, error);
		}
		throw new FateZeroError('INFERENCE_FAILED', `Could not create the ${spec.label} session on ${provider}: ${message}`, {cause: error});
	}
	const inputs = signatureOf(session.inputMetadata);
	let disposed = false;
	return {
		label: spec.label,
		provider,
		threads,
		inputNames: session.inputNames,
		outputNames: session.outputNames,
		async run(feeds, options = {}) {
			const {fetches} = options;
			if (disposed) throw new FateZeroError('SESSION_DISPOSED', `The ${spec.label} session was disposed; create a new one.`);
			checkFeeds(spec.label, inputs, feeds);
			checkFetches(spec.label, session.outputNames, fetches);
			const ortFeeds: Record<string, ort.Tensor> = {};
			for (const [name, tensor] of Object.entries(feeds)) ortFeeds[name] = toOrt(tensor);
			let results: ort.InferenceSession.ReturnType;
			try {
				results = fetches ? await session.run(ortFeeds, [...fetches]) : await session.run(ortFeeds);
			} catch (error) {
				const shapes = Object.entries(feeds)
					.map(([name, t]) => `${name}: ${t.type}[${t.dims.join(', ')}]`)
					.join('; ');
				throw new FateZeroError('INFERENCE_FAILED', `The ${spec.label} session failed (${shapes}): ${(error as Error).message}`, {cause: error});
			}
			const out: Record<string, HostTensor> = {};
			for (const [name, tensor] of Object.entries(results)) out[name] = fromOrt(name, spec.label, tensor);
			return out;
		},
		endProfiling() {
			if (!options.profileFilePrefix) return null;
			session.endProfiling();
			return newestProfile(options.profileFilePrefix);
		},
		async dispose() {
			if (disposed) return;
			disposed = true;
					await session.release();
		},
	};
};
