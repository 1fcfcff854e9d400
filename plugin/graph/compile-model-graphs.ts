import path from 'node:path';
import {throwIfWeightProblems} from '../model/format-weight-problems.js';
import type {ModelComponent} from '../model/find-component-weights.js';
import type {ModelFolder} from '../model/read-model-folder.js';
import type {ExecutionProviderName, SessionSpec} from '../runtime/session-spec.js';
import type {LayerContext} from './common-layers.js';
import {getOrBuildGraph, graphCacheKey} from './graph-file-cache.js';
import {GraphBuilder} from './onnx-graph-builder.js';
import {buildTextEncoderGraph} from './text-encoder-graph.js';
import {buildUnetGraph, type UnetGraphOptions} from './unet-graph.js';
import {buildVaeDecoderGraph} from './vae-decoder-graph.js';
import {buildVaeEncoderGraph} from './vae-encoder-graph.js';
import {WeightBinder, type ComputeType, type WeightFile} from './weight-binder.js';

export type ModelGraphOptions = {
	/** Precision inside the graphs (their inputs and outputs are float32 either way). Default 'float32'. */
	computeType?: ComputeType;
	/**
	 * The provider the sessions will run on (default 'cpu'): the builders emit portable ops where it
	 * has no kernel for the usual ones (provider-kernels.ts). Part of every graph's cache key.
	 */
	executionProvider?: ExecutionProviderName;
	/** UNet options; `cacheKey` must describe the attention hook when one is given. */
	unet: Omit<UnetGraphOptions, 'attentionHook'> & {attentionHook?: UnetGraphOptions['attentionHook']; hookKey?: string};
};

export type ModelSessionSpecs = {
	textEncoder: SessionSpec;
	vaeEncoder: SessionSpec;
	vaeDecoder: SessionSpec;
	unet: SessionSpec;
};

// Buffers real checkpoints carry that no layer reads.
const IGNORED_TENSORS = [/^text_model\.embeddings\.position_ids$/];

type Build = (ctx: LayerContext) => void;

/** What a graph is built for: its precision and the provider whose kernels it may use. */
export type GraphTarget = {computeType: ComputeType; provider: ExecutionProviderName};

const bindAndBuild = (label: string, weights: WeightFile[], target: GraphTarget, builds: Build[]) => {
	const b = new GraphBuilder(label);
	const w = new WeightBinder(b, weights, target.computeType);
	for (const build of builds) build({b, w, computeType: target.computeType, provider: target.provider});
	return {b, w};
};

/**
 * Checks every weight the graphs will read against the model's safetensors headers — missing,
 * extra, wrong shape — and throws one error per component that names the first offenders.
 * Builds the graphs in memory only (milliseconds even at SD size); nothing is written.
 */
export const validateModelWeights = (model: ModelFolder): void => {
	const target: GraphTarget = {computeType: 'float32', provider: 'cpu'};
	const checks: [ModelComponent, WeightFile[], Build[]][] = [
		['text_encoder', model.textEncoder.weights, [(ctx) => buildTextEncoderGraph(ctx, model.textEncoder.config)]],
		// Encoder and decoder together use the whole VAE file: check them as one for "extra" tensors.
		['vae', model.vae.weights, [(ctx) => buildVaeEncoderGraph(ctx, model.vae.config), (ctx) => buildVaeDecoderGraph(ctx, model.vae.config)]],
		['unet', model.unet.weights, [(ctx) => buildUnetGraph(ctx, model.unet.config, {referenceFramesMinChannels: null})]],
	];
	for (const [component, weights, builds] of checks) {
		const {w} = bindAndBuild(component, weights, target, builds);
		throwIfWeightProblems(w.report(IGNORED_TENSORS), component, model.dir, weights);
	}
};

const compileGraph = (
	model: ModelFolder,
	cacheDir: string,
	target: GraphTarget,
	component: string,
	weights: WeightFile[],
	cacheOptions: object,
	build: Build,
): SessionSpec => {
	const key = graphCacheKey(component, model.modelIdentity, {computeType: target.computeType, provider: target.provider, ...cacheOptions});
	const graph = getOrBuildGraph(cacheDir, component, key, () => bindAndBuild(component, weights, target, [build]).b.toBytes());
	return {
		label: `${component} (${model.name})`,
		graph: graph.path,
		externalData: weights.map(({location}) => ({location, file: path.join(model.dir, location)})),
	};
};

/**
 * The UNet graph alone, e.g. a FateZero variant with an attention hook. `hookKey` must identify
 * everything the hook changes in the graph (it is part of the cache key).
 */
export const compileUnetGraph = (
	model: ModelFolder,
	cacheDir: string,
	options: ModelGraphOptions['unet'] & {computeType?: ComputeType; executionProvider?: ExecutionProviderName},
): SessionSpec => {
	const {attentionHook, hookKey, computeType, executionProvider, ...unetOptions} = options;
	if (attentionHook && !hookKey) {
		throw new TypeError('compileUnetGraph: an attention hook needs a hookKey that identifies it in the graph cache');
	}
	const target: GraphTarget = {computeType: computeType ?? 'float32', provider: executionProvider ?? 'cpu'};
	return compileGraph(model, cacheDir, target, 'unet', model.unet.weights, {...unetOptions, hookKey: hookKey ?? null}, (ctx) =>
		buildUnetGraph(ctx, model.unet.config, {...unetOptions, attentionHook}),
	);
};

/**
 * The four graphs of a model as session specs, built once per (model, options) and cached as
 * small .onnx files under `<cacheDir>/graphs/` whose initializers point into the model's own
 * safetensors files. Call validateModelWeights first: a cached graph is trusted.
 */
export const compileModelGraphs = (model: ModelFolder, cacheDir: string, options: ModelGraphOptions): ModelSessionSpecs => {
	const computeType = options.computeType ?? 'float32';
	const executionProvider = options.executionProvider ?? 'cpu';
	const target: GraphTarget = {computeType, provider: executionProvider};
	return {
		textEncoder: compileGraph(model, cacheDir, target, 'text-encoder', model.textEncoder.weights, {}, (ctx) => buildTextEncoderGraph(ctx, model.textEncoder.config)),
		vaeEncoder: compileGraph(model, cacheDir, target, 'vae-encoder', model.vae.weights, {}, (ctx) => buildVaeEncoderGraph(ctx, model.vae.config)),
		vaeDecoder: compileGraph(model, cacheDir, target, 'vae-decoder', model.vae.weights, {}, (ctx) => buildVaeDecoderGraph(ctx, model.vae.config)),
		unet: compileUnetGraph(model, cacheDir, {...options.unet, computeType, executionProvider}),
	};
};
