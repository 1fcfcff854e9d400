import {existsSync, readdirSync} from 'node:fs';
import path from 'node:path';
import {PICKLE_FILE} from './model-folder-hints.js';

/** The model-folder components that carry weights. */
export type ModelComponent = 'unet' | 'vae' | 'text_encoder';

/** diffusers' `variant`: which copy of the weights to prefer when a folder has several. */
export type WeightVariant = 'fp16' | null;

/** Weight file stem as diffusers (unet, vae) and transformers (text encoder) save them. */
export const WEIGHT_STEM: Record<ModelComponent, string> = {
	unet: 'diffusion_pytorch_model',
	vae: 'diffusion_pytorch_model',
	text_encoder: 'model',
};

/** Paths are relative to the model folder, '/'-separated (they become ONNX external-data locations). */
export type ComponentWeightFiles =
	| {kind: 'single'; file: string}
	| {kind: 'sharded'; indexFile: string}
	/** No safetensors, only PyTorch pickles. */
	| {kind: 'pickle'; files: string[]}
	/** Nothing loadable; `otherSafetensors` are safetensors files under names diffusers does not load. */
	| {kind: 'none'; otherSafetensors: string[]};

// diffusers' _add_variant inserts the variant before the last extension:
// "x.safetensors" -> "x.fp16.safetensors", "x.safetensors.index.json" -> "x.safetensors.index.fp16.json".
const candidates = (stem: string, variant: WeightVariant): {kind: 'single' | 'sharded'; name: string}[] =>
	variant === null
		? [
				{kind: 'single', name: `${stem}.safetensors`},
				{kind: 'sharded', name: `${stem}.safetensors.index.json`},
			]
		: [
				{kind: 'single', name: `${stem}.${variant}.safetensors`},
				{kind: 'sharded', name: `${stem}.safetensors.index.${variant}.json`},
			];

/**
 * Picks a component's safetensors weights the way diffusers does: the requested variant first,
 * then the other one (a folder with only fp16 files is still usable; the graph casts weights
 * to the compute type), a single file before a sharded index.
 */
export const findComponentWeights = (
	modelDir: string,
	component: ModelComponent,
	variant: WeightVariant,
): {found: ComponentWeightFiles; warnings: string[]} => {
	const dir = path.join(modelDir, component);
	const names = existsSync(dir) ? readdirSync(dir) : [];
	const stem = WEIGHT_STEM[component];
	const order = variant === null ? [null, 'fp16' as const] : [variant, null];
	for (const [rank, v] of order.entries()) {
		for (const candidate of candidates(stem, v)) {
			if (!names.includes(candidate.name)) continue;
			const relative = `${component}/${candidate.name}`;
			const warnings =
				rank > 0 && variant !== null
					? [`${component}/ in ${modelDir} has no ${variant} weights; using ${relative} instead.`]
					: [];
			return {
				found: candidate.kind === 'single' ? {kind: 'single', file: relative} : {kind: 'sharded', indexFile: relative},
				warnings,
			};
		}
	}
	const pickles = names.filter((n) => PICKLE_FILE.test(n)).sort();
	if (pickles.length > 0) return {found: {kind: 'pickle', files: pickles.map((n) => `${component}/${n}`)}, warnings: []};
	const other = names.filter((n) => n.endsWith('.safetensors')).sort();
	return {found: {kind: 'none', otherSafetensors: other.map((n) => `${component}/${n}`)}, warnings: []};
};
