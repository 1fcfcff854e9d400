import {float16Tensor, float32Tensor, type HostTensor} from '../runtime/host-tensor.js';
import {computeBlendMask} from './blend-mask.js';
import type {FateZeroTarget} from './fatezero-target.js';
import {DEFAULT_STORAGE_PRECISION, FUSION_IO, type FusionMode, type StoragePrecision} from './fusion-io.js';
import type {FusionPlan} from './fusion-plan.js';

const TOKENS = 77;

/** Resolutions of the fused self-attention layers: each takes its own blend-mask input. */
export const blendMaskResolutions = (plan: FusionPlan): {height: number; width: number}[] => {
	const seen = new Map<string, {height: number; width: number}>();
	for (const layer of plan.fused) if (layer.kind === 'self') seen.set(`${layer.height}x${layer.width}`, {height: layer.height, width: layer.width});
	return [...seen.values()];
};

/** The cross-attention edit as a matrix: Replace's mapper, or Refine's index mapper one-hot. // [77, 77] */
const crossMapperMatrix = (target: FateZeroTarget): Float32Array => {
	const {crossEdit} = target.edit;
	if (crossEdit.kind === 'replace') return crossEdit.mapper;
	const matrix = new Float32Array(TOKENS * TOKENS);
	// A_src[..., mapper] = A_src · OneHot with OneHot[w, n] = 1 where mapper[n] = w; -1 reads nothing
	// (the official code reads column 76 there, multiplied by alpha 0: the same result)
	crossEdit.mapper.forEach((source, n) => {
		if (source >= 0) matrix[source * TOKENS + n] = 1;
	});
	return matrix;
};

export type FusionStepInput = {
	plan: FusionPlan;
	mode: FusionMode;
	targets: FateZeroTarget[];
	frames: number;
	/** Editing step i (0-based, t descending); null at inversion (no targets). */
	step: number | null;
	/** The inversion's mask maps of store step N-1-i ([F, Qm, 77]); required when a target blends. */
	sourceMaskMaps: Float32Array | null;
	/** Stored mode: the source queries/keys of store step N-1-i, and the source prompt's states. */
	stored: StoredAttention | null;
	/** Stored mode: element type of the stored queries/keys inputs (for the inversion's placeholders). Default 'float16'. */
	storagePrecision?: StoragePrecision;
	sourceText: Float32Array;
	textShape: [number, number, number];
};

/** Queries and keys of the fused layers at one inversion step (stored mode). */
export type StoredAttention = Map<string, HostTensor>;

/**
 * The control inputs of the fusion UNet for one step: per target the cross mapper, refine alphas,
 * equaliser, this step's cross window row and self window flag, and the blend mask at each fused
 * resolution; in stored mode also the stored source queries/keys (dummies of one token at
 * inversion). Inversion has no targets but gets one placeholder that edits nothing (mapper 0,
 * windows 0, mask 0): every control keeps a row, so no tensor in the graph is empty (the graph
 * counts the real targets from the batch and drops the placeholder's rows).
 */
export const fusionFeeds = (input: FusionStepInput): Record<string, HostTensor> => {
	const {plan, targets, frames, step} = input;
	const count = step === null ? 1 : targets.length;
	const real = step === null ? 0 : targets.length;
	const mapper = new Float32Array(count * TOKENS * TOKENS);
	const refine = new Float32Array(count * TOKENS).fill(1);
	const equalizer = new Float32Array(count * TOKENS).fill(1);
	const window = new Float32Array(count * TOKENS);
	const selfWindow = new Float32Array(count);
	for (let t = 0; t < real; t++) {
		const target = targets[t];
		const {edit} = target;
		mapper.set(crossMapperMatrix(target), t * TOKENS * TOKENS);
		refine.set(edit.crossEdit.kind === 'refine' ? edit.crossEdit.alphas : new Float32Array(TOKENS).fill(1), t * TOKENS);
		equalizer.set(edit.equalizer ?? new Float32Array(TOKENS).fill(1), t * TOKENS);
		window.set(edit.crossReplaceAlpha.subarray(step! * TOKENS, (step! + 1) * TOKENS), t * TOKENS);
		selfWindow[t] = step! >= edit.numSelfReplace[0] && step! < edit.numSelfReplace[1] ? 1 : 0;
	}
	const feeds: Record<string, HostTensor> = {
		[FUSION_IO.crossMapper]: float32Tensor(mapper, [count, TOKENS, TOKENS]),
		[FUSION_IO.crossRefine]: float32Tensor(refine, [count, TOKENS]),
		[FUSION_IO.crossEqualizer]: float32Tensor(equalizer, [count, TOKENS]),
		[FUSION_IO.crossWindow]: float32Tensor(window, [count, TOKENS]),
		[FUSION_IO.selfWindow]: float32Tensor(selfWindow, [count]),
	};
	for (const {height, width} of blendMaskResolutions(plan)) {
		const size = frames * height * width;
		const masks = new Float32Array(count * size); // M ≡ 0: without blend words, source self-attention in the window
		for (let t = 0; t < real; t++) {
			const target = targets[t];
			const rows = target.edit.blendAlphaRows;
			if (!target.blendSelfAttention || rows === null) continue;
			if (!input.sourceMaskMaps) throw new TypeError('fusionFeeds: a blending target needs the inversion mask maps');
			const {mask} = computeBlendMask({
				maps: input.sourceMaskMaps,
				frames,
				mapHeight: plan.maskHeight,
				mapWidth: plan.maskWidth,
				alpha: rows.subarray(0, TOKENS), // prompt_choose='source': row 0
				threshold: target.blendThreshold,
				outHeight: height,
				outWidth: width,
			});
			masks.set(mask, t * size);
		}
		feeds[FUSION_IO.blendMask(height, width)] = float32Tensor(masks, [count, frames, height * width]);
	}
	if (input.mode === 'stored') {
		feeds[FUSION_IO.sourceText] = float32Tensor(input.sourceText, [1, input.textShape[1], input.textShape[2]]);
		for (const layer of plan.fused) {
			const names = layer.kind === 'self' ? [FUSION_IO.storedQuery(layer.path), FUSION_IO.storedKey(layer.path)] : [FUSION_IO.storedQuery(layer.path)];
			for (const name of names) {
				const placeholder = () =>
					(input.storagePrecision ?? DEFAULT_STORAGE_PRECISION) === 'float32'
						? float32Tensor(new Float32Array(frames * layer.channels), [frames, 1, layer.channels])
						: float16Tensor(new Uint16Array(frames * layer.channels), [frames, 1, layer.channels]);
				feeds[name] = input.stored?.get(name) ?? placeholder();
			}
		}
	}
	return feeds;
};
