import {mkdirSync} from 'node:fs';
import path from 'node:path';
import {DdimScheduler} from '../diffusion/ddim-scheduler.js';
import {encodePrompts} from '../diffusion/encode-prompts.js';
import {loadClipTokenizer} from '../diffusion/load-clip-tokenizer.js';
import {decodeLatents, encodeFrames} from '../diffusion/vae-codec.js';
import {compileModelGraphs, validateModelWeights} from '../graph/compile-model-graphs.js';
import type {ComputeType} from '../graph/weight-binder.js';
import {readModelFolder} from '../model/read-model-folder.js';
import {createOrtSession, type OrtSession} from '../runtime/ort-session.js';
import {placementReport, readOrtProfile, type PlacementReport, type ProfiledNode} from '../runtime/profile-report.js';
import type {ExecutionProviderName} from '../runtime/session-spec.js';
import {planChunks} from './chunk-plan.js';
import {editClip} from './edit-clip.js';
import {createFusionHook} from './fusion-graph-hook.js';
import type {FusionMode} from './fusion-io.js';
import {planFusion} from './fusion-plan.js';
import {invertClip} from './invert-clip.js';
import {DEFAULT_LEAST_SC_CHANNEL} from './load-fatezero.js';
import {buildFateZeroTargets} from './run-fatezero.js';

export type ProfileFateZeroOptions = {
	modelDir: string;
	cacheDir: string;
	/** Where ORT writes its profiles. */
	profileDir: string;
	executionProvider?: ExecutionProviderName;
	computeType?: ComputeType;
	attentionSource: FusionMode;
	/** Square frame size in pixels. */
	sizeInPixels: number;
	/** Frames of the synthetic clip. Default 2. */
	frameCount?: number;
	/** DDIM steps of inversion and editing. Default 2. */
	steps?: number;
	leastScChannel?: number;
	intraOpThreads?: number;
};

export type GraphProfile = {graph: 'text-encoder' | 'vae-encoder' | 'unet' | 'vae-decoder'; nodes: ProfiledNode[]; report: PlacementReport; profileFile: string};

/**
 * Runs every graph a FateZero edit uses — text encoder, VAE encoder, the fusion UNet through
 * inversion and editing (two targets: one with blend words, the self-attention mask and the
 * latent blend, one plain Reweight edit), VAE decoder — on a small synthetic clip, each session
 * under ORT's profiler, and returns per graph every node execution and the placement report.
 * The doctor's --placement check, check:gpu and the zero-dimension test read it.
 */
export const profileFateZeroGraphs = async (options: ProfileFateZeroOptions): Promise<GraphProfile[]> => {
	const provider = options.executionProvider ?? 'cpu';
	const computeType = options.computeType ?? 'float32';
	const frameCount = options.frameCount ?? 2;
	const steps = options.steps ?? 2;
	const mode = options.attentionSource;
	const model = readModelFolder(options.modelDir);
	validateModelWeights(model);
	const latent = options.sizeInPixels / 8;
	const plan = planFusion(model.unet.config, latent, latent);
	const leastScChannel = options.leastScChannel ?? Math.min(DEFAULT_LEAST_SC_CHANNEL, model.unet.config.blockOutChannels[1] ?? 0);
	const specs = compileModelGraphs(model, options.cacheDir, {
		computeType,
		executionProvider: provider,
		unet: {referenceFramesMinChannels: leastScChannel, attentionHook: createFusionHook(plan, mode), hookKey: JSON.stringify({fusion: mode, latent, profile: true})},
	});
	mkdirSync(options.profileDir, {recursive: true});
	const open = (name: GraphProfile['graph'], spec: (typeof specs)[keyof typeof specs]) =>
		createOrtSession(spec, {executionProvider: provider, intraOpThreads: options.intraOpThreads, profileFilePrefix: path.join(options.profileDir, `${name}-${mode}-${computeType}`)});
	const sessions: [GraphProfile['graph'], OrtSession][] = [];
	try {
		for (const [name, spec] of [['text-encoder', specs.textEncoder], ['vae-encoder', specs.vaeEncoder], ['unet', specs.unet], ['vae-decoder', specs.vaeDecoder]] as const) {
			sessions.push([name, await open(name, spec)]);
		}
		const session = (name: GraphProfile['graph']) => sessions.find(([n]) => n === name)![1];
		const tokenizer = await loadClipTokenizer(model.tokenizerDir);
		const scheduler = new DdimScheduler(model.scheduler.config);
		const sourcePrompt = 'a silver jeep driving down a curvy road';
		const edits = [
			{prompt: 'a red jeep driving down a curvy road', blendWords: [['silver'], ['red']], blendSelfAttention: true, latentBlend: true, blendThreshold: 0.5},
			{prompt: 'watercolor painting of a silver jeep driving down a curvy road', reweight: {words: 'watercolor', values: 10}},
		];
		const prompts = ['', sourcePrompt, ...edits.map((e) => e.prompt)];
		const text = await encodePrompts(session('text-encoder'), tokenizer, prompts);
		const row = text.shape[1] * text.shape[2];
		const states = prompts.map((_, i) => text.states.slice(i * row, (i + 1) * row));
		const {targets} = buildFateZeroTargets({tokenizer}, sourcePrompt, edits, steps);
		const size = options.sizeInPixels;
		const plane = size * size;
		const pixels = new Float32Array(frameCount * 3 * plane);
		for (let f = 0; f < frameCount; f++) for (let c = 0; c < 3; c++) for (let p = 0; p < plane; p++) pixels[(f * 3 + c) * plane + p] = Math.sin((p % size) / 9 + f / 3 + c) * 0.8;
		const scalingFactor = model.vae.config.scalingFactor;
		const {latents, latentShape} = await encodeFrames(session('vae-encoder'), pixels, [frameCount, 3, size, size], {scalingFactor});
		const textShape: [number, number, number] = [1, text.shape[1], text.shape[2]];
		const common = {unet: session('unet'), plan, mode, scheduler, latentShape, textShape};
		const chunks = planChunks(frameCount, frameCount, ['mid']);
		const inversion = await invertClip({...common, latents, sourceText: states[1], chunks, steps});
		const edited = await editClip({...common, inversion, targets, unconditionalText: states[0], sourceText: states[1], targetTexts: states.slice(2), guidance: 7.5, steps});
		await decodeLatents(session('vae-decoder'), edited[0], latentShape, {scalingFactor});
		return sessions.map(([graph, s]) => {
			const profileFile = s.endProfiling()!;
			const nodes = readOrtProfile(profileFile);
			return {graph, nodes, report: placementReport(nodes, provider), profileFile};
		});
	} finally {
		for (const [, s] of sessions) await s.dispose();
	}
};
