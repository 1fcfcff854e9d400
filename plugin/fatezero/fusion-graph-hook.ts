import type {AttentionHook, AttentionSite} from '../graph/attention-hook.js';
import {attendWithProbabilities, attentionProbabilities, fusedAttention, linear, scalar, toComputeType, toFloat32, type LayerContext} from '../graph/common-layers.js';
import {UNET_IO} from '../graph/unet-graph.js';
import {FUSION_IO, type FusionMode} from './fusion-io.js';
import type {FusionPlan} from './fusion-plan.js';

/** A group of consecutive heads: `of(x)` takes their channels of a [N, S, C] tensor. */
type HeadSlice = {heads: number; channels: number; of: (x: string) => string};

/**
 * Default bound on one slice of explicit maps, in heads × query × key tokens per frame: a 32²
 * layer's maps then go two heads at a time (at 512² × 8 frames, 270 MB per map instead of 1 GB).
 */
export const DEFAULT_MAX_ATTENTION_MAP_ELEMENTS_PER_FRAME = 2 * 1024 * 1024;

export type FusionHookOptions = {
	/** Explicit maps are built a few heads at a time so that one slice stays under this bound (see above). */
	maxAttentionMapElementsPerFrame?: number;
};

/**
 * Heads per slice of a fused layer's explicit maps: the fewest equal slices whose maps stay under
 * `maxElements` per frame (one head at least). Keys ≈ queries for self-attention with one
 * reference frame, 77 for cross-attention: the bound uses the larger.
 */
export const headsPerMapSlice = (heads: number, queryTokens: number, maxElements: number): number => {
	const keyTokens = Math.max(queryTokens, 77);
	let count = 1;
	while (count < heads && (heads % count !== 0 || (heads / count) * queryTokens * keyTokens > maxElements)) count += 1;
	return heads / count;
};

const headSlices = (ctx: LayerContext, heads: number, channels: number, queryTokens: number, maxElements: number): HeadSlice[] => {
	const perSlice = headsPerMapSlice(heads, queryTokens, maxElements);
	const count = heads / perSlice;
	if (count === 1) return [{heads, channels, of: (x) => x}];
	const sliceChannels = channels / count;
	return Array.from({length: count}, (_, i) => ({
		heads: perSlice,
		channels: sliceChannels,
		// [N, S, C] -> [N, S, C/k]
		of: (x: string) => ctx.b.op('Slice', [x, ctx.b.constInt64([i * sliceChannels]), ctx.b.constInt64([(i + 1) * sliceChannels]), ctx.b.constInt64([2])]),
	}));
};

/**
 * FateZero's Inversion Attention Fusion inside the UNet graph (fatezero-spec §2.2), via the
 * attention hook. Fused layers (Q ≤ threshold) compute explicit probabilities; every other layer
 * keeps the memory-light fused kernel. The edited probabilities of the conditional branch are:
 *   cross: P' = α ⊙ [((P_src · Mapper) ⊙ a + P ⊙ (1 − a)) ⊙ eq] + (1 − α) ⊙ P
 *   self:  P' = P + w · (1 − M) ⊙ (P_src − P)        (M over query pixels; w = 1 inside the window;
 *          applied as P'V = PV + w(1 − M) ⊙ (P_src V − PV), so the targets' self maps are never built)
 * which is the official Replace / Refine / Reweight and blended self-attention replacement with
 * α, a, w ∈ {0, 1}. P_src comes from the source element of the same batch (recompute mode) or is
 * recomputed from the stored source queries/keys (stored mode).
 */
export const createFusionHook = (plan: FusionPlan, mode: FusionMode, options: FusionHookOptions = {}): AttentionHook => {
	const maxMapElements = options.maxAttentionMapElementsPerFrame ?? DEFAULT_MAX_ATTENTION_MAP_ELEMENTS_PER_FRAME;
	const fused = new Map(plan.fused.map((layer) => [layer.path, layer]));
	const maskPaths = new Set(plan.maskLayers.map((layer) => layer.path));
	const maskHeads = plan.maskLayers.reduce((sum, layer) => sum + layer.heads, 0);
	let sourceMaskSum: string | null = null; // [F, Qm, 77] summed over layers and heads
	let targetMaskSum: string | null = null; // [T, F, Qm, 77]
	const declared = new Map<string, string>();
	// Recompute mode: the source element (group 0) only feeds the fused and mask layers, so it
	// leaves the batch before the first up block after the last of them (at 512² that skips the
	// 64² up block, about a quarter of a UNet call, for the source element).
	const upBlockOf = (layerPath: string) => Number(/^up_blocks\.(\d+)\./.exec(layerPath)?.[1] ?? -1);
	const lastUpBlockReadingSource = Math.max(-1, ...[...plan.fused, ...plan.maskLayers].map((layer) => upBlockOf(layer.path)));

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

	/** Source probabilities in stored mode, from the inversion's queries and keys, for the heads of `slice`. */
	const storedSource = (ctx: LayerContext, site: AttentionSite, slice: HeadSlice) => {
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
		return attentionProbabilities(ctx, slice.of(q), slice.of(k), slice.heads, slice.channels); // [F, h, Q, K]
	};

	return {
		attend(ctx, site) {
			const layer = fused.get(site.path);
			const isMaskLayer = maskPaths.has(site.path);
			if (!layer && !isMaskLayer) return null;
			const {b} = ctx;
			const {heads, channels} = site;
			const queryTokens = (layer ?? plan.maskLayers.find((l) => l.path === site.path)!).queryTokens;
			// Row ranges of the batch [N, S, C]: group 0 is rows [0, F); the targets are the last T
			// groups, rows [N − T·F, N); everything before them keeps its own attention. Only the
			// groups whose maps are read or edited get materialised probabilities: at 512² a fused
			// 32² layer's [24 frames, 8, 1024, 1024] map is 800 MB, a third of it per group.
			const frames = framesPerClip(ctx);
			const targetRows = b.op('Mul', [b.op('Shape', [input(ctx, FUSION_IO.selfWindow, ['targets'])]), frames]);
			const firstTargetRow = b.op('Sub', [b.op('Gather', [b.op('Shape', [site.query]), b.constInt64([0])], {axis: 0}), targetRows]);
			const end = b.constInt64([2 ** 31 - 1]);
			const zero = b.constInt64([0]);
			const rows = (x: string, from: string, to: string) => b.op('Slice', [x, from, to, zero]);
			// sliced once, shared by every head slice below
			const sourceQuery = rows(site.query, zero, frames); // [F, Q, C]
			const sourceKey = rows(site.key, zero, frames); // [F, K, C]
			const targetValues = rows(site.value, firstTargetRow, end); // [T·F, K, C]

			if (layer && mode === 'stored') {
				b.output(FUSION_IO.recordedQuery(site.path), toFloat32(ctx, sourceQuery), 'float32');
				if (site.kind === 'self') b.output(FUSION_IO.recordedKey(site.path), toFloat32(ctx, sourceKey), 'float32');
			}
			// The explicit maps are built a few heads at a time (every step below is per head), so
			// only one slice's [F, h, Q, K] maps are alive at once.
			const slices = headSlices(ctx, heads, channels, queryTokens, maxMapElements);
			if (layer && site.kind === 'self') {
				// Blended self-attention replacement (spec §2.2) without the targets' maps: the edit
				// P' = P + keep ⊙ (P_src − P) is linear in P, with keep = w · (1 − M) one value per
				// query pixel, so P'V = PV + keep ⊙ (P_src V − PV). PV comes from the memory-light
				// kernel (one call over every row), only the source's maps are explicit.
				const own = fusedAttention(ctx, site.query, site.key, site.value, heads); // [N, Q, C]
				const targetCount = b.op('Shape', [input(ctx, FUSION_IO.selfWindow, ['targets'])]);
				const fromSource = slices.map((slice) => {
					const source =
						mode === 'recompute'
							? attentionProbabilities(ctx, slice.of(sourceQuery), slice.of(sourceKey), slice.heads, slice.channels)
							: storedSource(ctx, site, slice); // [F, h, Q, K]
					// [F, h, Q, K] -> [T, F, h, Q, K] -> [T·F, h, Q, K]. Sizes from the targets' own keys: at
					// inversion T = 0 and stored mode feeds one-token placeholders, which must stay empty.
					const tiled = b.op('Expand', [b.op('Unsqueeze', [source, zero]), b.op('Concat', [targetCount, b.constInt64([1, 1, 1, 1])], {axis: 0})]);
					const keyCount = b.op('Gather', [b.op('Shape', [targetValues]), b.constInt64([1])], {axis: 0});
					const flat = b.op('Reshape', [tiled, b.op('Concat', [targetRows, b.constInt64([slice.heads, queryTokens]), keyCount], {axis: 0})]);
					return attendWithProbabilities(ctx, flat, slice.of(targetValues), slice.heads, slice.channels); // [T·F, Q, C/k]
				});
				const sourceOutput = fromSource.length === 1 ? fromSource[0] : b.op('Concat', fromSource, {axis: 2}); // [T·F, Q, C]
				// keep = w · (1 − M): M [T, F, Q], w [T] -> [T, F, Q] -> [T·F, Q, 1]
				const mask = input(ctx, FUSION_IO.blendMask(layer.height, layer.width), ['targets', 'frames', layer.height * layer.width]);
				const window = b.op('Unsqueeze', [input(ctx, FUSION_IO.selfWindow, ['targets']), b.constInt64([1, 2])]);
				const keep = b.op('Reshape', [b.op('Mul', [b.op('Sub', [scalar(ctx, 1), mask]), window]), b.constInt64([-1, queryTokens, 1])]);
				const ownTargets = rows(own, firstTargetRow, end);
				const blended = b.op('Add', [ownTargets, b.op('Mul', [keep, b.op('Sub', [sourceOutput, ownTargets])])]);
				return b.op('Concat', [rows(own, zero, firstTargetRow), blended], {axis: 0});
			}
			// the rows before the targets: their own attention through the memory-light kernel
			const untouched = fusedAttention(ctx, rows(site.query, zero, firstTargetRow), rows(site.key, zero, firstTargetRow), rows(site.value, zero, firstTargetRow), heads);

			// cross-attention (fused or mask layers): the targets' maps are edited or read
			const targetQuery = rows(site.query, firstTargetRow, end); // [T·F, Q, C]
			const targetKey = rows(site.key, firstTargetRow, end); // [T·F, K, C]
			const targetOutputs = slices.map((slice) => {
				// 1. group 0 (the source clip): its maps feed the blend masks and, in recompute mode, the fusion
				let sourceProbabilities: string | null = null; // [F, h, Q, K]
				if (isMaskLayer || (layer && mode === 'recompute')) {
					sourceProbabilities = attentionProbabilities(ctx, slice.of(sourceQuery), slice.of(sourceKey), slice.heads, slice.channels);
				}
				if (isMaskLayer) sourceMaskSum = accumulate(ctx, sourceMaskSum, b.op('ReduceSum', [sourceProbabilities!, b.constInt64([1])], {keepdims: 0}));

				// 2. the targets: explicit maps, edited with the source's (spec §2.2)
				const targetProbabilities = attentionProbabilities(ctx, slice.of(targetQuery), slice.of(targetKey), slice.heads, slice.channels); // [T·F, h, Q, K]
				const targets = byClip(ctx, targetProbabilities, slice.heads, queryTokens); // [T, F, h, Q, K]
				if (isMaskLayer) targetMaskSum = accumulate(ctx, targetMaskSum, b.op('ReduceSum', [targets, b.constInt64([2])], {keepdims: 0}));
				let edited = targets;
				if (layer) {
					const source = b.op('Unsqueeze', [mode === 'recompute' ? sourceProbabilities! : storedSource(ctx, site, slice), zero]); // [1, F, h, Q, K]
					edited = editCross(ctx, source, targets);
				}
				// [T, F, h, Q, K] -> [T·F, h, Q, K]
				const flat = b.op('Reshape', [edited, b.op('Shape', [targetProbabilities])]);
				return attendWithProbabilities(ctx, flat, slice.of(targetValues), slice.heads, slice.channels); // [T·F, Q, C/k]
			});
			const targetOutput = targetOutputs.length === 1 ? targetOutputs[0] : b.op('Concat', targetOutputs, {axis: 2}); // [T·F, Q, C]
			return b.op('Concat', [untouched, targetOutput], {axis: 0});
		},
		leadingRowsToDrop(ctx, {index}) {
			if (mode !== 'recompute' || index !== lastUpBlockReadingSource + 1) return null;
			// F rows when the batch has targets (editing); none for inversion's source-only batch
			const {b} = ctx;
			const targets = b.op('Shape', [input(ctx, FUSION_IO.selfWindow, ['targets'])]);
			return b.op('Mul', [b.op('Min', [targets, b.constInt64([1])]), framesPerClip(ctx)]);
		},
		finish(ctx) {
			const {b} = ctx;
			const mean = (sum: string) => toFloat32(ctx, b.op('Mul', [sum, scalar(ctx, 1 / maskHeads)]));
			if (sourceMaskSum) b.output(FUSION_IO.maskMaps, mean(sourceMaskSum), 'float32');
			if (targetMaskSum) b.output(FUSION_IO.targetMaskMaps, mean(targetMaskSum), 'float32');
		},
	};
};
