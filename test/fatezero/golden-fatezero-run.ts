import path from 'node:path';
import {compileModelGraphs, compileUnetGraph, validateModelWeights} from '../../plugin/graph/compile-model-graphs.js';
import {readModelFolder} from '../../plugin/model/read-model-folder.js';
import {createOrtSession, type OrtSession} from '../../plugin/runtime/ort-session.js';
import {loadClipTokenizer} from '../../plugin/diffusion/load-clip-tokenizer.js';
import {DdimScheduler} from '../../plugin/diffusion/ddim-scheduler.js';
import {encodePrompts} from '../../plugin/diffusion/encode-prompts.js';
import {referenceFrameTable, type ReferenceFrameSpec} from '../../plugin/clip/reference-frames.js';
import {planFusion, type FusionPlan} from '../../plugin/fatezero/fusion-plan.js';
import {createFusionHook, type FusionHookOptions} from '../../plugin/fatezero/fusion-graph-hook.js';
import type {FusionMode} from '../../plugin/fatezero/fusion-io.js';
import type {ClipTokenizer} from '../../plugin/diffusion/clip-tokenizer.js';
import {goldenDir} from '../helpers/golden.js';

/** The three official e2e runs of ../shared/golden/e2e (see its README). */
export const GOLDEN_RUNS = {
	style_mid_th1024: {references: ['mid'] as ReferenceFrameSpec[], minChannels: 64, threshold: 1024},
	shape_default_th1024: {references: [-1, 'first'] as ReferenceFrameSpec[], minChannels: 0, threshold: 1024},
	shape_default_th64: {references: [-1, 'first'] as ReferenceFrameSpec[], minChannels: 0, threshold: 64},
} as const;
export type GoldenRunName = keyof typeof GOLDEN_RUNS;

export const SOURCE_PROMPT = 'a silver jeep driving down a curvy road in the countryside';

/** [1, c, f, h, w] (FateZero) -> [f, c, h, w] (ours). */
export const framesFirst = (x: Float32Array, c = 4, f = 4, hw = 256): Float32Array => {
	const out = new Float32Array(x.length);
	for (let ci = 0; ci < c; ci++) for (let fi = 0; fi < f; fi++) for (let p = 0; p < hw; p++) out[(fi * c + ci) * hw + p] = x[(ci * f + fi) * hw + p];
	return out;
};

export type GoldenEngine = {
	unet: OrtSession;
	plan: FusionPlan;
	scheduler: DdimScheduler;
	tokenizer: ClipTokenizer;
	referenceFrames: number[][];
	text: (prompts: string[]) => Promise<Float32Array[]>;
	dispose: () => Promise<void>;
};

/** The tiny golden model with the FateZero UNet of one golden run, in one mode. */
export const openGoldenEngine = async (run: GoldenRunName, mode: FusionMode, cacheDir: string, hookOptions: FusionHookOptions = {}): Promise<GoldenEngine> => {
	const settings = GOLDEN_RUNS[run];
	const model = readModelFolder(path.join(goldenDir, 'tiny-sd'));
	validateModelWeights(model);
	const plan = planFusion(model.unet.config, 16, 16, settings.threshold);
	const unetSpec = compileUnetGraph(model, cacheDir, {
		referenceFramesMinChannels: settings.minChannels,
		attentionHook: createFusionHook(plan, mode, hookOptions),
		hookKey: JSON.stringify({fusion: mode, latent: [16, 16], threshold: settings.threshold, hookOptions}),
	});
	const specs = compileModelGraphs(model, cacheDir, {unet: {referenceFramesMinChannels: settings.minChannels}});
	const [unet, textEncoder] = await Promise.all([createOrtSession(unetSpec), createOrtSession(specs.textEncoder)]);
	const tokenizer = await loadClipTokenizer(model.tokenizerDir);
	return {
		unet,
		plan,
		scheduler: new DdimScheduler(model.scheduler.config),
		tokenizer,
		referenceFrames: referenceFrameTable(settings.references, 4),
		text: async (prompts) => {
			const {states} = await encodePrompts(textEncoder, tokenizer, prompts);
			const row = 77 * 32;
			return prompts.map((_, i) => states.slice(i * row, (i + 1) * row));
		},
		dispose: async () => {
			await unet.dispose();
			await textEncoder.dispose();
		},
	};
};
