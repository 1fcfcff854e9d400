import {ENGINE_DEFAULTS} from '../clip/engine-defaults.js';
import type {AttentionHook, AttentionSite} from '../graph/attention-hook.js';
import {attendWithProbabilities, attentionProbabilities, fusedAttention, linear, scalar, toFloat32, type LayerContext} from '../graph/common-layers.js';
import {OnnxType} from '../graph/onnx-graph-builder.js';
import {UNET_IO} from '../graph/unet-graph.js';
import {DEFAULT_STORAGE_PRECISION, FUSION_IO, type FusionMode, type StoragePrecision} from './fusion-io.js';
import type {FusionPlan} from './fusion-plan.js';

/** A group of consecutive heads: `of(x)` takes their channels of a [N, S, C] tensor. */
type HeadSlice = {heads: number; channels: number; of: (x: string) => string};

/**
 * Default bound on one slice of explicit maps, in heads × query × key tokens per frame. Only
 * cross-attention maps (77 keys) are explicit: at the default every SD-1.x layer up to 64² queries
 * takes one slice; larger latents (or a smaller bound) go a few heads at a time.
 */
export const DEFAULT_MAX_ATTENTION_MAP_ELEMENTS_PER_FRAME = ENGINE_DEFAULTS.maxAttentionMapElementsPerFrame;

export type FusionHookOptions = {
	/** Explicit maps are built a few heads at a time so that one slice stays under this bound (see above). */
	maxAttentionMapElementsPerFrame?: number;
	/**
	 * Stored mode: element type of the recorded/stored queries and keys at the graph boundary
	 * (default 'float16'). The host keeps them as they come out, so the conversion runs in ORT.
	 */
	storagePrecision?: StoragePrecision;
};

/**
 * Heads per slice of a layer's explicit maps: the fewest equal slices whose maps stay under
 * `maxElements` per frame (one head at least).
 */
export const headsPerMapSlice = (heads: number, queryTokens: number, keyTokens: number, maxElements: number): number => {
	let count = 1;
	while (count < heads && (heads % count !== 0 || (heads / count) * queryTokens * keyTokens > maxElements)) count += 1;
	return heads / count;
};

const headSlices = (ctx: LayerContext, heads: number, channels: number, queryTokens: number, keyTokens: number, maxElements: number): HeadSlice[] => {
	const perSlice = headsPerMapSlice(heads, queryTokens, keyTokens, maxElements);
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
 * attention hook. Fused cross-attention layers (Q ≤ threshold) compute explicit probabilities (77
 * keys); self-attention and every other layer keep the memory-light fused kernel. The edited probabilities of the conditional branch are:
 *   cross: P' = α ⊙ [((P_src · Mapper) ⊙ a + P ⊙ (1 − a)) ⊙ eq] + (1 − α) ⊙ P
 *   self:  P' = P + w · (1 − M) ⊙ (P_src − P)        (M over query pixels; w = 1 inside the window;
 *          applied as P'V = PV + w(1 − M) ⊙ (P_src V − PV), so the targets' self maps are never built)
 * which is the official Replace / Refine / Reweight and blended self-attention replacement with
 * α, a, w ∈ {0, 1}. P_src comes from the source element of the same batch (recompute mode) or is
 * recomputed from the stored source queries/keys (stored mode).
 */
export const createFusionHook = (plan: FusionPlan, mode: FusionMode, options: FusionHookOptions = {}): AttentionHook => {
	const maxMapElements = options.maxAttentionMapElementsPerFrame ?? DEFAULT_MAX_ATTENTION_MAP_ELEMENTS_PER_FRAME;
	const storagePrecision = options.storagePrecision ?? DEFAULT_STORAGE_PRECISION;
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

	// float32 at the boundary like every graph input (stored queries/keys: their storage type);
	// cast once into the compute type
	const input = (ctx: LayerContext, name: string, dims: (number | string)[], type: StoragePrecision = 'float32') => {
		if (!declared.has(name)) {
			ctx.b.input(name, type, dims);
			declared.set(name, type === ctx.computeType ? name : ctx.b.op('Cast', [name], {to: OnnxType[ctx.computeType]}));
		}
		return declared.get(name)!;
	};
	const toStorageType = (ctx: LayerContext, x: string) => (storagePrecision === ctx.computeType ? x : ctx.b.op('Cast', [x], {to: OnnxType[storagePrecision]}));
	const framesPerClip = (ctx: LayerContext) =>
		ctx.b.op('Gather', [ctx.b.op('Shape', [UNET_IO.referenceFrames]), ctx.b.constInt64([1])], {axis: 0});
	/** int64 [1]: the rows of the per-target controls (T, or 1 at inversion: see fusionFeeds). */
	const controlRows = (ctx: LayerContext) => ctx.b.op('Shape', [input(ctx, FUSION_IO.selfWindow, ['targets'])]);
	/**
	 * int64 [1]: the edit targets really in the batch, from its clip count: recompute [source |
	 * uncond T | cond T] has 1 + 2T clips, stored [uncond T | cond T] has 2T; inversion's batch of one
	 * clip gives 0 either way. Inversion still feeds one placeholder target (windows 0), so that no
	 * tensor in the graph is ever empty: CUDA's attention kernels do not accept a batch of 0.
	 */
	const realTargets = (ctx: LayerContext) => {
		const {b} = ctx;
		const clips = b.op('Div', [b.op('Gather', [b.op('Shape', [UNET_IO.sample]), b.constInt64([0])], {axis: 0}), framesPerClip(ctx)]);
		return b.op('Div', [mode === 'recompute' ? b.op('Sub', [clips, b.constInt64([1])]) : clips, b.constInt64([2])]);
	};
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
		// [1, F, H, Q, 77] -> [T, F, H, Q, 77]
		const mapperInput = input(ctx, FUSION_IO.crossMapper, ['targets', 77, 77]);
		const tiled = b.op('Expand', [source, b.op('Concat', [controlRows(ctx), b.constInt64([1, 1, 1, 1])], {axis: 0})]);
		// [T, F, H, Q, 77] · [T, 1, 1, 77, 77] -> [T, F, H, Q, 77]
		const mapped = b.op('MatMul', [tiled, b.op('Unsqueeze', [mapperInput, b.constInt64([1, 2])])]);
		const refine = perTarget(ctx, input(ctx, FUSION_IO.crossRefine, ['targets', 77]));
		const equalizer = perTarget(ctx, input(ctx, FUSION_IO.crossEqualizer, ['targets', 77]));
		const window = perTarget(ctx, input(ctx, FUSION_IO.crossWindow, ['targets', 77]));
		const edited = b.op('Mul', [b.op('Add', [b.op('Mul', [mapped, refine]), b.op('Mul', [target, b.op('Sub', [one, refine])])]), equalizer]);
		return b.op('Add', [b.op('Mul', [edited, window]), b.op('Mul', [target, b.op('Sub', [one, window])])]);
	};

	/** Stored mode: the inversion's queries (and, for self-attention, keys) of this layer. // [F, S, C] */
	const storedQuery = (ctx: LayerContext, site: AttentionSite) =>
		input(ctx, FUSION_IO.storedQuery(site.path), ['frames', `q_tokens:${site.path}`, site.channels], storagePrecision);
	const storedKey = (ctx: LayerContext, site: AttentionSite) =>
		input(ctx, FUSION_IO.storedKey(site.path), ['frames', `k_tokens:${site.path}`, site.channels], storagePrecision);

	/** Source probabilities of a cross-attention layer in stored mode, from the stored queries and the source prompt's keys. */
	const storedCrossSource = (ctx: LayerContext, site: AttentionSite, slice: HeadSlice) => {
		// text keys of the source prompt, the same for every frame: [1, 77, C] -> [F, 77, C]
		const text = input(ctx, FUSION_IO.sourceText, [1, 77, 'text_dim']);
		let k = linear(ctx, `${site.path}.to_k`, text, plan.crossAttentionDim, site.channels, false);
		k = ctx.b.op('Expand', [k, ctx.b.op('Concat', [framesPerClip(ctx), ctx.b.constInt64([77, site.channels])], {axis: 0})]);
		return attentionProbabilities(ctx, slice.of(storedQuery(ctx, site)), slice.of(k), slice.heads, slice.channels); // [F, h, Q, 77]
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
			// groups, rows [N − T·F, N); everything before them keeps its own attention. Only
			// cross-attention maps of the groups that are read or edited are ever materialised.
			// The target branch runs on the last T' = max(T, 1) groups: at inversion (T = 0) it
			// re-reads group 0 with a placeholder edit and its rows are cut off again at the end
			// (`assemble`), so every tensor keeps at least one row.
			const frames = framesPerClip(ctx);
			const batchRows = b.op('Gather', [b.op('Shape', [site.query]), b.constInt64([0])], {axis: 0});
			const firstTargetRow = b.op('Sub', [batchRows, b.op('Mul', [controlRows(ctx), frames])]); // N − T'·F
			const firstEditedRow = b.op('Sub', [batchRows, b.op('Mul', [realTargets(ctx), frames])]); // N − T·F
			const end = b.constInt64([2 ** 31 - 1]);
			const zero = b.constInt64([0]);
			const rows = (x: string, from: string, to: string) => b.op('Slice', [x, from, to, zero]);
			// [N − T·F rows of their own attention | T'·F target rows] -> the first N rows
			const assemble = (own: string, targets: string) => rows(b.op('Concat', [own, targets], {axis: 0}), zero, batchRows);
			// sliced once, shared by every head slice below
			const sourceQuery = rows(site.query, zero, frames); // [F, Q, C]
			const sourceKey = rows(site.key, zero, frames); // [F, K, C]
			const targetValues = rows(site.value, firstTargetRow, end); // [T·F, K, C]

			if (layer && mode === 'stored') {
				b.output(FUSION_IO.recordedQuery(site.path), toStorageType(ctx, sourceQuery), storagePrecision);
				if (site.kind === 'self') b.output(FUSION_IO.recordedKey(site.path), toStorageType(ctx, sourceKey), storagePrecision);
			}
			if (layer && site.kind === 'self') {
				// Blended self-attention replacement (spec §2.2) without any explicit map: the edit
				// P' = P + keep ⊙ (P_src − P) is linear in P, with keep = w · (1 − M) one value per
				// query pixel, so P'V = PV + keep ⊙ (P_src V − PV). Both products are the
				// memory-light kernel: PV over every row, and P_src V = softmax(Q_src K_srcᵀ) V_tgt with
				// the source's queries and keys repeated for each target and the target's values.
				const own = fusedAttention(ctx, site.query, site.key, site.value, heads); // [N, Q, C]
				const perTarget = b.op('Concat', [controlRows(ctx), b.constInt64([1, 1])], {axis: 0});
				const sourceQ = mode === 'recompute' ? sourceQuery : storedQuery(ctx, site); // [F, Q, C]
				let sourceK = mode === 'recompute' ? sourceKey : storedKey(ctx, site); // [F, K, C]
				// Inversion feeds stored mode one-token placeholders: cut the values to the keys' length
				// so the kernel sees consistent shapes (the result is cut off); in editing a no-op.
				const keyCount = b.op('Gather', [b.op('Shape', [sourceK]), b.constInt64([1])], {axis: 0});
				const values = mode === 'stored' ? b.op('Slice', [targetValues, zero, keyCount, b.constInt64([1])]) : targetValues; // [T·F, K, C]
				// [F, S, C] -> [T·F, S, C], target-major like the batch's target rows
				sourceK = b.op('Tile', [sourceK, perTarget]);
				const sourceOutput = fusedAttention(ctx, b.op('Tile', [sourceQ, perTarget]), sourceK, values, heads); // [T·F, Q, C]
				// keep = w · (1 − M): M [T, F, Q], w [T] -> [T, F, Q] -> [T·F, Q, 1]
				const mask = input(ctx, FUSION_IO.blendMask(layer.height, layer.width), ['targets', 'frames', layer.height * layer.width]);
				const window = b.op('Unsqueeze', [input(ctx, FUSION_IO.selfWindow, ['targets']), b.constInt64([1, 2])]);
				const keep = b.op('Reshape', [b.op('Mul', [b.op('Sub', [scalar(ctx, 1), mask]), window]), b.constInt64([-1, queryTokens, 1])]);
				const ownTargets = rows(own, firstTargetRow, end);
				const blended = b.op('Add', [ownTargets, b.op('Mul', [keep, b.op('Sub', [sourceOutput, ownTargets])])]);
				return assemble(rows(own, zero, firstEditedRow), blended);
			}
			// Cross-attention maps (77 keys) are explicit, a few heads at a time (every step below is per head).
			const slices = headSlices(ctx, heads, channels, queryTokens, 77, maxMapElements);
			// the rows before the targets: their own attention through the memory-light kernel
			const untouched = fusedAttention(ctx, rows(site.query, zero, firstEditedRow), rows(site.key, zero, firstEditedRow), rows(site.value, zero, firstEditedRow), heads);

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
					const source = b.op('Unsqueeze', [mode === 'recompute' ? sourceProbabilities! : storedCrossSource(ctx, site, slice), zero]); // [1, F, h, Q, K]
					edited = editCross(ctx, source, targets);
				}
				// [T, F, h, Q, K] -> [T·F, h, Q, K]
				const flat = b.op('Reshape', [edited, b.op('Shape', [targetProbabilities])]);
				return attendWithProbabilities(ctx, flat, slice.of(targetValues), slice.heads, slice.channels); // [T·F, Q, C/k]
			});
			const targetOutput = targetOutputs.length === 1 ? targetOutputs[0] : b.op('Concat', targetOutputs, {axis: 2}); // [T·F, Q, C]
			return assemble(untouched, targetOutput);
		},
		leadingRowsToDrop(ctx, {index}) {
			if (mode !== 'recompute' || index !== lastUpBlockReadingSource + 1) return null;
			// F rows when the batch has targets (editing); none for inversion's source-only batch
			const {b} = ctx;
			return b.op('Mul', [b.op('Min', [realTargets(ctx), b.constInt64([1])]), framesPerClip(ctx)]);
		},
		finish(ctx) {
			const {b} = ctx;
			const mean = (sum: string) => toFloat32(ctx, b.op('Mul', [sum, scalar(ctx, 1 / maskHeads)]));
			if (sourceMaskSum) b.output(FUSION_IO.maskMaps, mean(sourceMaskSum), 'float32');
			if (targetMaskSum) b.output(FUSION_IO.targetMaskMaps, mean(targetMaskSum), 'float32');
		},
	};
};
