import type {AttentionHook} from '../graph/attention-hook.js';
import {compileModelGraphs, validateModelWeights} from '../graph/compile-model-graphs.js';
import type {ComputeType} from '../graph/weight-binder.js';
import {readModelFolder, type ModelFolder} from '../model/read-model-folder.js';
import {createInferenceRuntime, type InferenceRuntime, type InferenceSession} from '../runtime/index.js';
import type {ExecutionProviderName} from '../runtime/session-spec.js';
import type {ClipTokenizer} from './clip-tokenizer.js';
import {DdimScheduler} from './ddim-scheduler.js';
import {loadClipTokenizer} from './load-clip-tokenizer.js';
import type {OnProgress} from './progress.js';

export type LoadStableDiffusionOptions = {
	/** SD-1.x folder in diffusers layout. */
	modelDir: string;
	/** Where generated graphs are cached (`<cacheDir>/graphs`). */
	cacheDir: string;
	/** Default 'cpu'. A provider that cannot bind throws; there is no silent fallback. */
	executionProvider?: ExecutionProviderName;
	/** Precision inside the graphs; default 'float32' ('float16' pays off on CUDA only). */
	computeType?: ComputeType;
	/** ORT intra-op threads; default every core this process may use. */
	intraOpThreads?: number;
	/**
	 * Self-attention in UNet levels with at least this many channels reads the clip's reference
	 * frames (FateZero's `least_sc_channel`); null: plain per-frame SD. Default null.
	 */
	referenceFramesMinChannels?: number | null;
	/** Prefer `*.fp16.safetensors` weights when the folder has both. */
	variant?: 'fp16' | null;
	/** A UNet with an attention hook (e.g. FateZero's fusion), chosen once the model's config is known. */
	unetVariant?: (model: ModelFolder) => {attentionHook: AttentionHook; hookKey: string};
	onProgress?: OnProgress;
};

export type StableDiffusion = {
	model: ModelFolder;
	tokenizer: ClipTokenizer;
	scheduler: DdimScheduler;
	runtime: InferenceRuntime;
	textEncoder: InferenceSession;
	vaeEncoder: InferenceSession;
	vaeDecoder: InferenceSession;
	unet: InferenceSession;
	/** Releases every session and the inference thread. */
	dispose(): Promise<void>;
};

/**
 * Reads and validates a model folder, builds (or reuses) its graphs and opens one session per
 * component on one inference thread. Sessions hold the weights: create this once per process
 * and dispose it when done.
 */
export const loadStableDiffusion = async (options: LoadStableDiffusionOptions): Promise<StableDiffusion> => {
	// 1. read and validate before any graph is written
	const model = readModelFolder(options.modelDir, {variant: options.variant ?? null});
	validateModelWeights(model);
	const tokenizer = await loadClipTokenizer(model.tokenizerDir);
	const specs = compileModelGraphs(model, options.cacheDir, {
		computeType: options.computeType,
		executionProvider: options.executionProvider,
		unet: {referenceFramesMinChannels: options.referenceFramesMinChannels ?? null, ...options.unetVariant?.(model)},
	});
	// 2. sessions, one after another (each reads its weights; in parallel they would only compete)
	const runtime = await createInferenceRuntime({executionProvider: options.executionProvider, intraOpThreads: options.intraOpThreads});
	try {
		const order = ['textEncoder', 'vaeEncoder', 'vaeDecoder', 'unet'] as const;
		const sessions = {} as Record<(typeof order)[number], InferenceSession>;
		for (const [i, name] of order.entries()) {
			sessions[name] = await runtime.createSession(specs[name]);
			options.onProgress?.({stage: 'load', step: i + 1, total: order.length});
		}
		return {
			model,
			tokenizer,
			scheduler: new DdimScheduler(model.scheduler.config),
			runtime,
			...sessions,
			dispose: () => runtime.dispose(),
		};
	} catch (error) {
		await runtime.dispose();
		throw error;
	}
};
