import type {AttentionHook, AttentionSite} from '../graph/attention-hook.js';
import {attendWithProbabilities, attentionProbabilities, linear, scalar, toComputeType, toFloat32, type LayerContext} from '../graph/common-layers.js';
import {UNET_IO} from '../graph/unet-graph.js';
import {FUSION_IO, type FusionMode} from './fusion-io.js';
import type {FusionPlan} from './fusion-plan.js';

/**
 * FateZero's Inversion Attention Fusion inside the UNet graph (fatezero-spec §2.2), via the
 * attention hook. Fused layers (Q ≤ threshold) compute explicit probabilities; every other layer
 * keeps the memory-light fused kernel. The edited probabilities of the conditional branch are:
 *   cross: P' = α ⊙ [((P_src · Mapper) ⊙ a + P ⊙ (1 − a)) ⊙ eq] + (1 − α) ⊙ P
 *   self:  P' = P + w · (1 − M) ⊙ (P_src − P)        (M over query pixels; w = 1 inside the window)
 * which is the official Replace / Refine / Reweight and blended self-attention replacement with
 * α, a, w ∈ {0, 1}. P_src comes from the source element of the same batch (recompute mode) or is
 * recomputed from the stored source queries/keys (stored mode).
 */
export const createFusionHook = (plan: FusionPlan, mode: FusionMode): AttentionHook => {
	const fused = new Map(plan.fused.map((layer) => [layer.path, layer]));
	const maskPaths = new Set(plan.maskLayers.map((layer) => layer.path));
	const maskHeads = plan.maskLayers.reduce((sum, layer) => sum + layer.heads, 0);
	let sourceMaskSum: string | null = null; // [F, Qm, 77] summed over layers and heads
	let targetMaskSum: string | null = null; // [T, F, Qm, 77]
	const declared = new Map<string, string>();

	// float32 at the boundary like every graph input; cast once into the compute type
	const input = (ctx: LayerContext, name: string, dims: (number | string)[]) => {
		if (!declared.has(name)) {
			ctx.b.input(name, 'float32', dims);
			declared.set(name, toComputeType(ctx, name));
		}
		return declared.get(name)!;
	};
	const framesPerClip = (ctx: LayerContext) =>
		ctx.b.op('Gather', [ctx.b.op('Shape', [UNET_IO.referenceFrames]), ctx.b.constInt64([1])], {axis: 0});
	// [N, H, Q, K] -> [groups, F, H, Q, K]
	const byClip = (ctx: LayerContext, p: string, heads: number, queryTokens: number) => {
		const {b} = ctx;
		const keys = b.op('Gather', [b.op('Shape', [p]), b.constInt64([3])], {axis: 0});
		return b.op('Reshape', [p, b.op('Concat', [b.constInt64([-1]), framesPerClip(ctx), b.constInt64([heads, queryTokens]), keys], {axis: 0})]);
	};
	const slice = (ctx: LayerContext, x: string, start: number, end: number) =>
		ctx.b.op('Slice', [x, ctx.b.constInt64([start]), ctx.b.constInt64([end]), ctx.b.constInt64([0])]);
	// [T, ...] control -> [T, 1, 1, 1, X] to broadcast against [T, F, H, Q, X]
	const perTarget = (ctx: LayerContext, name: string) => ctx.b.op('Unsqueeze', [name, ctx.b.constInt64([1, 2, 3])]);
	const accumulate = (ctx: LayerContext, sum: string | null, maps: string) => (sum === null ? maps : ctx.b.op('Add', [sum, maps]));

	const editCross = (ctx: LayerContext, source: string, target: string) => {
		const {b} = ctx;
		const one = scalar(ctx, 1);
		// [1, F, H, Q, 77] -> [T, F, H, Q, 77] (ORT's MatMul does not broadcast 1 against T = 0)
		const mapperInput = input(ctx, FUSION_IO.crossMapper, ['targets', 77, 77]);
		const targetCount = b.op('Shape', [input(ctx, FUSION_IO.selfWindow, ['targets'])]);
		const tiled = b.op('Expand', [source, b.op('Concat', [targetCount, b.constInt64([1, 1, 1, 1])], {axis: 0})]);
		// [T, F, H, Q, 77] · [T, 1, 1, 77, 77] -> [T, F, H, Q, 77]
		const mapped = b.op('MatMul', [tiled, b.op('Unsqueeze', [mapperInput, b.constInt64([1, 2])])]);
		const refine = perTarget(ctx, input(ctx, FUSION_IO.crossRefine, ['targets', 77]));
		const equalizer = perTarget(ctx, input(ctx, FUSION_IO.crossEqualizer, ['targets', 77]));
		const window = perTarget(ctx, input(ctx, FUSION_IO.crossWindow, ['targets', 77]));
		const edited = b.op('Mul', [b.op('Add', [b.op('Mul', [mapped, refine]), b.op('Mul', [target, b.op('Sub', [one, refine])])]), equalizer]);
		return b.op('Add', [b.op('Mul', [edited, window]), b.op('Mul', [target, b.op('Sub', [one, window])])]);
	};

	const editSelf = (ctx: LayerContext, source: string, target: string, height: number, width: number) => {
		const {b} = ctx;
		// M [T, F, Q] -> [T, F, 1, Q, 1]: one value per query pixel, broadcast over heads and keys
		const mask = b.op('Unsqueeze', [input(ctx, FUSION_IO.blendMask(height, width), ['targets', 'frames', height * width]), b.constInt64([2, 4])]);
		// w [T] -> [T, 1, 1, 1, 1]
		const window = b.op('Unsqueeze', [input(ctx, FUSION_IO.selfWindow, ['targets']), b.constInt64([1, 2, 3, 4])]);
		const keepSource = b.op('Mul', [b.op('Sub', [scalar(ctx, 1), mask]), window]);
		return b.op('Add', [target, b.op('Mul', [keepSource, b.op('Sub', [source, target])])]);
	};

	/** Source probabilities in stored mode, from the inversion's queries and keys. */
	const storedSource = (ctx: LayerContext, site: AttentionSite) => {
		const q = input(ctx, FUSION_IO.storedQuery(site.path), ['frames', `q_tokens:${site.path}`, site.channels]);
		let k: string;
		if (site.kind === 'cross') {
			// text keys of the source prompt, the same for every frame: [1, 77, C] broadcast in the product
			const text = input(ctx, FUSION_IO.sourceText, [1, 77, 'text_dim']);
			k = linear(ctx, `${site.path}.to_k`, text, plan.crossAttentionDim, site.channels, false);
			k = ctx.b.op('Expand', [k, ctx.b.op('Concat', [framesPerClip(ctx), ctx.b.constInt64([77, site.channels])], {axis: 0})]);
		} else {
			k = input(ctx, FUSION_IO.storedKey(site.path), ['frames', `k_tokens:${site.path}`, site.channels]);
		}
		return attentionProbabilities(ctx, q, k, site.heads, site.channels); // [F, H, Q, K]
	};

	return {
		attend(ctx, site) {
			const layer = fused.get(site.path);
			const isMaskLayer = maskPaths.has(site.path);
			if (!layer && !isMaskLayer) return null;
			const {b} = ctx;
			const {heads, channels} = site;
			const queryTokens = (layer ?? plan.maskLayers.find((l) => l.path === site.path)!).queryTokens;
			const probabilities = attentionProbabilities(ctx, site.query, site.key, heads, channels); // [N, H, Q, K]
			const clips = byClip(ctx, probabilities, heads, queryTokens); // [G, F, H, Q, K]
			// targets are the last T groups (T = the controls' first dim); the groups before them
			// (source and/or the unconditional branches) keep their own maps
			const targetCount = b.op('Shape', [input(ctx, FUSION_IO.selfWindow, ['targets'])]);
			const firstTarget = b.op('Sub', [b.op('Gather', [b.op('Shape', [clips]), b.constInt64([0])], {axis: 0}), targetCount]);

			// group 0 (the source clip at inversion) for the host: mask maps, and Q/K in stored mode
			if (isMaskLayer) sourceMaskSum = accumulate(ctx, sourceMaskSum, b.op('ReduceSum', [slice(ctx, clips, 0, 1), b.constInt64([0, 2])], {keepdims: 0}));
			if (layer && mode === 'stored') {
				const frames = framesPerClip(ctx);
				const firstClip = (x: string) => b.op('Slice', [x, b.constInt64([0]), frames, b.constInt64([0])]);
				b.output(FUSION_IO.recordedQuery(site.path), toFloat32(ctx, firstClip(site.query)), 'float32');
				if (site.kind === 'self') b.output(FUSION_IO.recordedKey(site.path), toFloat32(ctx, firstClip(site.key)), 'float32');
			}

			const targets = b.op('Slice', [clips, firstTarget, b.constInt64([2 ** 31 - 1]), b.constInt64([0])]); // [T, F, H, Q, K]
			if (isMaskLayer) targetMaskSum = accumulate(ctx, targetMaskSum, b.op('ReduceSum', [targets, b.constInt64([2])], {keepdims: 0}));
			if (!layer) return attendWithProbabilities(ctx, probabilities, site.value, heads, channels);

			const source =
				mode === 'recompute'
					? slice(ctx, clips, 0, 1) // [1, F, H, Q, K]
					: b.op('Unsqueeze', [storedSource(ctx, site), b.constInt64([0])]);
			const edited = site.kind === 'cross' ? editCross(ctx, source, targets) : editSelf(ctx, source, targets, layer.height, layer.width);
			const untouched = b.op('Slice', [clips, b.constInt64([0]), firstTarget, b.constInt64([0])]);
			const all = b.op('Concat', [untouched, edited], {axis: 0});
			// [G, F, H, Q, K] -> [N, H, Q, K]
			const flat = b.op('Reshape', [all, b.op('Shape', [probabilities])]);
			return attendWithProbabilities(ctx, flat, site.value, heads, channels);
		},
		finish(ctx) {
			const {b} = ctx;
			const mean = (sum: string) => toFloat32(ctx, b.op('Mul', [sum, scalar(ctx, 1 / maskHeads)]));
			if (sourceMaskSum) b.output(FUSION_IO.maskMaps, mean(sourceMaskSum), 'float32');
			if (targetMaskSum) b.output(FUSION_IO.targetMaskMaps, mean(targetMaskSum), 'float32');
		},
	};
};
