import {FateZeroError} from '../../errors/fatezero-error.js';
import type {ReferenceFrameSpec} from '../../clip/reference-frames.js';
import type {FateZeroEdit} from '../fatezero-edit.js';
import {describeConfigValue, formatKeyPath, type KeySegment} from './config-key-path.js';
import {
	applyKeyRules,
	checkResolved,
	configError,
	readBoolean,
	readList,
	readMapping,
	readNumber,
	readString,
	type ConfigReport,
	type KeyRules,
} from './config-values.js';
import {mapP2pEntry} from './map-p2p-entry.js';
import {OFFICIAL_DEFAULTS} from './official-defaults.js';
import {parseConfigText} from './parse-config-text.js';
import {resolveInterpolations} from './resolve-interpolations.js';

/** An official FateZero config (test_fatezero.py's YAML) as this port's options. */
export type OfficialConfig = {
	/** The file it came from, or null for text or an object. */
	file: string | null;
	/** pretrained_model_path as written (relative paths are the caller's to resolve), or null. */
	modelPath: string | null;
	dataset: {
		/** dataset_config.path as written: a frame folder (or, here, also a video), or null. */
		path: string | null;
		/** dataset_config.prompt: the source prompt of the inversion. */
		prompt: string;
		/** start_sample_frame. */
		start: number;
		/** n_sample_frame; null for every frame from start (a negative n_sample_frame). */
		count: number | null;
		/** sampling_rate. */
		stride: number;
		/** offset: pixels cut from each edge before resizing. */
		crop: {left: number; right: number; top: number; bottom: number};
		/** image_size: the square frame side the model sees. */
		sizeInPixels: number;
	};
	/** editing_config.editing_prompts with their p2p_config entries, in order. */
	edits: FateZeroEdit[];
	/** editing_config.num_inference_steps (inversion and editing). */
	steps: number;
	/** editing_config.guidance_scale. */
	guidance: number;
	/** model_config.SparseCausalAttention_index. */
	attention: ReferenceFrameSpec[];
	/** model_config.least_sc_channel (0: every level reads the reference frames). */
	leastScChannel: number;
	/** seed as written (it has no effect here), or null. */
	seed: number | null;
	/** Deviations from the official code and likely mistakes. */
	warnings: string[];
	/** Keys accepted without effect, and interpolations that were ignored. */
	notes: string[];
};

export type ParseOfficialConfigOptions = {
	/** The file the text came from: named in messages and returned as `file`. */
	file?: string | null;
	/** Environment for `${oc.env:…}` interpolations. Default process.env. */
	env?: Record<string, string | undefined>;
};

const NO_EFFECT_EDIT = 'no effect: presentation of the official sample GIFs.';

const TOP_KEYS: KeyRules = {
	pretrained_model_path: 'used',
	dataset_config: 'used',
	editing_config: 'used',
	model_config: 'used',
	test_pipeline_config: 'used',
	seed: 'used',
	logdir: 'no effect: outputs go to --out.',
	mixed_precision: 'no effect on the options: this port computes in float32 (fp16 in the official code only changes rounding).',
	gradient_accumulation_steps: 'training setting; no effect on editing.',
	batch_size: 'data loader setting; no effect on editing (the official code edits one clip).',
	verbose: 'no effect: it only makes the official code save attention visualisations.',
	disk_store: 'no effect on results: it only moves the official attention store to disk (--attention-source stored is this port\'s low-memory mode).',
	pretrained_epoch_list: {warning: 'checkpoint sweeps are not supported: pass one checkpoint folder as --model.'},
};

const DATASET_KEYS: KeyRules = {
	path: 'used',
	prompt: 'used',
	n_sample_frame: 'used',
	sampling_rate: 'used',
	start_sample_frame: 'used',
	offset: 'used',
	image_size: 'used',
	crop: 'used',
	image_mode: 'used',
	stride: 'no effect here: it only picks windows of a long video for tuning; the clip starts at start_sample_frame.',
	class_data_root: 'tuning only (prior-preservation images); no effect on editing.',
	class_prompt_ids: 'tuning only; no effect on editing.',
};

const EDITING_KEYS: KeyRules = {
	editing_prompts: 'used',
	p2p_config: 'used',
	num_inference_steps: 'used',
	guidance_scale: 'used',
	use_inversion_attention: 'used',
	use_invertion_latents: 'used',
	prompt2prompt_edit: 'used',
	source_prompt: 'used',
	clip_length: 'used',
	sample_seeds: 'used',
	strength: 'used',
	use_inversion_latents: {warning: 'the official code reads use_invertion_latents (with its typo), so this key has no effect there; this port always edits from the inverted latents.'},
	num_samples_per_prompt: 'no effect: with DDIM (eta 0) from the inverted latents every sample is the same.',
	annotate: NO_EFFECT_EDIT,
	annotate_size: NO_EFFECT_EDIT,
	use_make_grid: NO_EFFECT_EDIT,
	grid_column_size: NO_EFFECT_EDIT,
	subdir: NO_EFFECT_EDIT,
	traverse_p2p_config: 'no effect (both branches of the official code read p2p_config[k]).',
};

const NOT_SUPPORTED_MODEL = {warning: 'not supported (it changes the inflated UNet\'s temporal layers, which zero-shot FateZero leaves out); ignored.'};

const MODEL_KEYS: KeyRules = {
	SparseCausalAttention_index: 'used',
	least_sc_channel: 'used',
	lora: {
		warning:
			'accepted without effect: on a Stable Diffusion 1.x checkpoint the LoRA temporal convolution it adds is zero-initialised, an exact identity. Checkpoints with trained temporal layers (Tune-A-Video) are not supported.',
	},
	temporal_downsample: NOT_SUPPORTED_MODEL,
	temporal_downsample_time: NOT_SUPPORTED_MODEL,
};

const REFERENCE_NAMES = new Set(['first', 'last', 'mid', 'middle']);

const readReferenceFrames = (value: unknown, path: readonly KeySegment[], report: ConfigReport): ReferenceFrameSpec[] => {
	const todo = "Write a list of 'first', 'last', 'mid' or frame offsets such as -1, e.g. ['mid'] (style configs) or [-1, 'first'] (the default).";
	const entries = readList(value, path, todo);
	if (entries.length === 0) {
		report.notes.push(`${formatKeyPath(path)} is empty: plain per-frame self-attention (each frame reads only itself).`);
		return [0];
	}
	return entries.map((entry, i) => {
		checkResolved(entry, [...path, i]);
		if (typeof entry === 'string' && REFERENCE_NAMES.has(entry)) return entry as ReferenceFrameSpec;
		if (typeof entry === 'number' && Number.isInteger(entry)) return entry;
		throw configError([...path, i], entry, 'not a reference frame', todo);
	});
};

const readOffsets = (value: unknown, path: readonly KeySegment[]): OfficialConfig['dataset']['crop'] => {
	const crop = {left: 0, right: 0, top: 0, bottom: 0};
	if (value === null) return crop;
	const mapping = readMapping(value, path, 'Write offset: {left: 0, right: 0, top: 0, bottom: 0} (pixels cut from each edge before resizing).');
	for (const [key, raw] of Object.entries(mapping)) {
		if (!Object.hasOwn(crop, key)) throw configError([...path, key], raw, 'not an offset (the official offset_crop would stop with a TypeError)', 'offset takes left, right, top and bottom.');
		crop[key as keyof typeof crop] = readNumber(raw, [...path, key], {integer: true, min: 0, todo: 'Give a whole number of pixels ≥ 0.'});
	}
	return crop;
};

/** p2p_config entries by prompt index (the YAML writes `0:`, `1:`; a list is accepted too). */
const readP2pEntries = (value: unknown, path: readonly KeySegment[], promptCount: number, report: ConfigReport): Map<number, {entry: unknown; path: KeySegment[]}> => {
	const entries = new Map<number, {entry: unknown; path: KeySegment[]}>();
	if (value === undefined || value === null) return entries;
	checkResolved(value, path);
	const pairs: [string, unknown][] = Array.isArray(value) ? value.map((entry, i) => [String(i), entry]) : Object.entries(readMapping(value, path, 'Write p2p_config as a mapping from the prompt index to its settings: {0: {…}, 1: {…}}.'));
	for (const [key, entry] of pairs) {
		if (!/^\d+$/.test(key)) {
			report.warnings.push(`${formatKeyPath([...path, key])}: p2p_config keys are editing prompt indices (0, 1, …); this one is ignored.`);
			continue;
		}
		const index = Number(key);
		if (index >= promptCount) {
			report.warnings.push(`${formatKeyPath([...path, index])} has no editing prompt (editing_prompts has ${promptCount}); ignored.`);
			continue;
		}
		entries.set(index, {entry, path: [...path, index]});
	}
	return entries;
};

const pipelineName = (target: string) => target.split('.').at(-1)?.toLowerCase() ?? '';

/**
 * Reads an official FateZero config — YAML text (JSON is YAML too) or an already parsed object —
 * into this port's options, as test_fatezero.py and P2pSampleLogger would run it (fatezero-spec
 * §1.1, §2, §4): OmegaConf interpolations resolved, official defaults for missing keys, keys
 * without effect accepted with a note or warning, bad values rejected with FateZeroError
 * 'INVALID_OPTION' naming the key path (editing_config.p2p_config[1].blend_th).
 */
export const parseOfficialConfig = (input: string | Record<string, unknown>, options: ParseOfficialConfigOptions = {}): OfficialConfig => {
	const file = options.file ?? null;
	const label = file ?? 'the config';
	const parsed = typeof input === 'string' ? parseConfigText(input, label) : input;
	const {tree, unresolved} = resolveInterpolations(parsed, options.env);
	const report: ConfigReport = {warnings: [], notes: []};
	const root = readMapping(tree, [], 'An official FateZero config is a mapping with pretrained_model_path, dataset_config, editing_config and model_config.');

	if (!Object.hasOwn(root, 'dataset_config') && Object.hasOwn(root, 'train_dataset')) {
		throw new FateZeroError(
			'INVALID_OPTION',
			`${label} has train_dataset but no dataset_config: it is a training config or uses the pre-release layout. Rename train_dataset → dataset_config, validation_sample_logger_config → editing_config, prompts → editing_prompts, masked_self_attention → blend_self_attention and bend_th → blend_th (the layout of FateZero's released config/ folder).`,
		);
	}
	applyKeyRules(root, [], TOP_KEYS, report, ' (Training and other tools\' keys have no effect on editing.)');

	// pretrained_model_path
	const modelPath = root.pretrained_model_path === undefined || root.pretrained_model_path === null ? null : readString(root.pretrained_model_path, ['pretrained_model_path'], 'Write the folder of a Stable Diffusion 1.x checkpoint in diffusers layout.');

	// dataset_config
	if (!Object.hasOwn(root, 'dataset_config')) {
		throw configError(['dataset_config'], undefined, 'required', 'Add dataset_config with at least prompt (the source prompt) and path (the frames).');
	}
	const datasetPath: KeySegment[] = ['dataset_config'];
	const dataset = readMapping(root.dataset_config, datasetPath, 'Write dataset_config: {path: …, prompt: …, n_sample_frame: 8, sampling_rate: 1}.');
	applyKeyRules(dataset, datasetPath, DATASET_KEYS, report);
	if (!Object.hasOwn(dataset, 'prompt')) throw configError([...datasetPath, 'prompt'], undefined, 'required', 'Write the prompt that describes the input video (the source prompt of the inversion).');
	const prompt = readString(dataset.prompt, [...datasetPath, 'prompt'], 'Write the source prompt as text.');
	const optionalNumber = (key: string, fallback: number, rule: Parameters<typeof readNumber>[2]) =>
		dataset[key] === undefined || dataset[key] === null ? fallback : readNumber(dataset[key], [...datasetPath, key], rule);
	const nSampleFrame = optionalNumber('n_sample_frame', OFFICIAL_DEFAULTS.nSampleFrame, {integer: true, todo: 'Give the number of frames to edit (8 in the shipped configs; a negative number takes every frame).'});
	if (nSampleFrame === 0) throw configError([...datasetPath, 'n_sample_frame'], 0, 'zero frames', 'Give the number of frames to edit (8 in the shipped configs; a negative number takes every frame).');
	const stride = optionalNumber('sampling_rate', OFFICIAL_DEFAULTS.samplingRate, {integer: true, min: 1, todo: 'Give a whole number ≥ 1 (1 takes consecutive frames).'});
	const start = optionalNumber('start_sample_frame', OFFICIAL_DEFAULTS.startSampleFrame, {integer: true, min: 0, todo: 'Give the index of the first frame (0 = the first file).'});
	const sizeInPixels = optionalNumber('image_size', OFFICIAL_DEFAULTS.imageSize, {integer: true, min: 8, todo: 'Give the square frame size in pixels, a multiple of 8 (512 for Stable Diffusion 1.x).'});
	if (sizeInPixels % 8 !== 0) throw configError([...datasetPath, 'image_size'], sizeInPixels, 'not a multiple of 8 (the VAE works on 8× smaller latents)', `Try ${Math.round(sizeInPixels / 8) * 8}.`);
	const crop = dataset.offset === undefined ? {left: 0, right: 0, top: 0, bottom: 0} : readOffsets(dataset.offset, [...datasetPath, 'offset']);
	if (dataset.crop !== undefined && dataset.crop !== null) {
		const mode = readString(dataset.crop, [...datasetPath, 'crop'], "Write 'center' (or leave it out).");
		if (mode === 'random') report.warnings.push(`${formatKeyPath([...datasetPath, 'crop'])} is 'random': this port always takes the centre crop (a random crop is not reproducible).`);
		else if (mode !== 'center') throw configError([...datasetPath, 'crop'], mode, "not a crop method (the official dataset knows 'center' and 'random')", "Write 'center'.");
	}
	if (dataset.image_mode !== undefined && dataset.image_mode !== null && readString(dataset.image_mode, [...datasetPath, 'image_mode'], "Write 'RGB'.") !== 'RGB') {
		report.warnings.push(`${formatKeyPath([...datasetPath, 'image_mode'])} is ${describeConfigValue(dataset.image_mode)}: frames are always read as RGB here.`);
	}
	const framesPath = dataset.path === undefined || dataset.path === null ? null : readString(dataset.path, [...datasetPath, 'path'], 'Write the folder of the input frames.');

	// editing_config
	const editingPath: KeySegment[] = ['editing_config'];
	if (!Object.hasOwn(root, 'editing_config')) throw configError(editingPath, undefined, 'required', 'Add editing_config with editing_prompts, p2p_config, num_inference_steps and guidance_scale.');
	const editing = readMapping(root.editing_config, editingPath, 'Write editing_config: {editing_prompts: [...], p2p_config: {...}, num_inference_steps: 50, guidance_scale: 7.5}.');
	applyKeyRules(editing, editingPath, EDITING_KEYS, report);
	const where = (key: string) => formatKeyPath([...editingPath, key]);
	if (!Object.hasOwn(editing, 'editing_prompts')) throw configError([...editingPath, 'editing_prompts'], undefined, 'required', 'List the prompts to render; index 0 is usually the source prompt itself (a reconstruction).');
	const prompts = readList(editing.editing_prompts, [...editingPath, 'editing_prompts'], 'List the prompts to render, e.g. [a silver jeep …, watercolor painting of a silver jeep …].').map((text, i) =>
		readString(text, [...editingPath, 'editing_prompts', i], 'Write each editing prompt as text.'),
	);
	if (prompts.length === 0) {
		throw configError([...editingPath, 'editing_prompts'], [], 'empty, so there is nothing to render', 'List at least one editing prompt (index 0 is usually the source prompt itself, a reconstruction).');
	}

	const flag = (key: string): boolean | undefined => (editing[key] === undefined || editing[key] === null ? undefined : readBoolean(editing[key], [...editingPath, key]));
	const useInversionAttention = flag('use_inversion_attention');
	if (useInversionAttention === false) {
		report.warnings.push(
			`${where('use_inversion_attention')} is false (the ablation that takes attention from a reconstruction pass of prompt 0): only inversion attention fusion is implemented here, so the attention recorded during the inversion is used.`,
		);
	}
	const useInversionLatents = flag('use_invertion_latents');
	if (useInversionLatents !== true) {
		report.warnings.push(
			`${where('use_invertion_latents')} is ${useInversionLatents === false ? 'false' : 'missing'}: the official code would then start the edits from random noise instead of the inverted latents; only editing from the inverted latents (as every shipped config does) is implemented here.`,
		);
	}
	const prompt2prompt = flag('prompt2prompt_edit') ?? OFFICIAL_DEFAULTS.prompt2promptEdit;
	if (!prompt2prompt) {
		report.warnings.push(
			`${where('prompt2prompt_edit')} is ${editing.prompt2prompt_edit === undefined ? 'missing (the official default is False)' : 'false'}: the official code then samples every prompt from the inverted latents without attention fusion and ignores p2p_config; reproduced with cross_replace_steps 0 and self_replace_steps 0. Set prompt2prompt_edit: True for FateZero editing.`,
		);
	}
	if (editing.source_prompt !== undefined) {
		const written = readString(editing.source_prompt, [...editingPath, 'source_prompt'], 'Leave source_prompt out; dataset_config.prompt is the source prompt.');
		report.warnings.push(
			`${where('source_prompt')} is ignored: dataset_config.prompt is the source prompt${written === prompt ? '' : ` (${JSON.stringify(prompt)}, not ${JSON.stringify(written)})`}. The official test_fatezero.py passes source_prompt=dataset_config.prompt to P2pSampleLogger as well, so with this key it stops with a TypeError ("got multiple values for keyword argument 'source_prompt'").`,
		);
	}
	const count = nSampleFrame < 0 ? null : nSampleFrame;
	if (editing.clip_length === undefined) {
		report.notes.push(`${where('clip_length')} is missing (the official P2pSampleLogger requires it); the clip length is the number of frames.`);
	} else {
		const clipLength = readNumber(editing.clip_length, [...editingPath, 'clip_length'], {integer: true, min: 1, todo: 'Write "${..dataset_config.n_sample_frame}" as the shipped configs do.'});
		if (count !== null && clipLength !== count) {
			report.warnings.push(`${where('clip_length')} is ${clipLength} but dataset_config.n_sample_frame is ${count}: the clip length is the number of frames here (${count}); the official pipeline expects them equal.`);
		}
	}
	if (editing.sample_seeds !== undefined && editing.sample_seeds !== null) {
		const seeds = readList(editing.sample_seeds, [...editingPath, 'sample_seeds'], 'Write a list of seeds, e.g. [0].');
		if (seeds.length > 1) report.notes.push(`${where('sample_seeds')} has ${seeds.length} seeds: each prompt is rendered once, since DDIM (eta 0) from the inverted latents gives the same frames for every seed.`);
	}
	if (editing.strength !== undefined && editing.strength !== null) {
		report.warnings.push(`${where('strength')} is ${describeConfigValue(editing.strength)}: partial-strength (img2img) sampling is not supported; the edit runs every step from the inverted latents.`);
	}
	let steps: number = OFFICIAL_DEFAULTS.numInferenceSteps;
	if (editing.num_inference_steps === undefined || editing.num_inference_steps === null) {
		report.warnings.push(`${where('num_inference_steps')} is missing (the official test_fatezero.py requires it); using ${steps}.`);
	} else {
		steps = readNumber(editing.num_inference_steps, [...editingPath, 'num_inference_steps'], {integer: true, min: 1, todo: 'Give the number of DDIM steps (50 in the shipped configs, 10 for a quick run).'});
	}
	let guidance: number = OFFICIAL_DEFAULTS.guidanceScale;
	if (editing.guidance_scale === undefined || editing.guidance_scale === null) {
		report.warnings.push(`${where('guidance_scale')} is missing: using ${guidance}, the official P2pSampleLogger default (every shipped config writes 7.5).`);
	} else {
		guidance = readNumber(editing.guidance_scale, [...editingPath, 'guidance_scale'], {todo: 'Give the classifier-free guidance scale (7.5 in the shipped configs).'});
	}

	const entries = readP2pEntries(editing.p2p_config, [...editingPath, 'p2p_config'], prompts.length, report);
	const edits = prompts.map((text, k): FateZeroEdit => {
		if (!prompt2prompt) {
			return {prompt: text, crossReplace: 0, selfReplace: 0, reweight: null, blendWords: null, blendSelfAttention: false, latentBlend: false, controller: 'auto'};
		}
		const found = entries.get(k);
		if (!found) {
			report.warnings.push(
				`${formatKeyPath([...editingPath, 'p2p_config'])} has no entry ${k} for editing prompt ${k} (${JSON.stringify(text)}); the official code would stop with a KeyError. Using the defaults: is_replace_controller True, cross_replace_steps ${OFFICIAL_DEFAULTS.crossReplaceSteps}, self_replace_steps ${OFFICIAL_DEFAULTS.selfReplaceSteps}, no reweighting or blending.`,
			);
		}
		return mapP2pEntry(found?.entry, found?.path ?? [...editingPath, 'p2p_config', k], text, report);
	});

	// model_config
	let attention: ReferenceFrameSpec[] = [...OFFICIAL_DEFAULTS.sparseCausalAttentionIndex];
	let leastScChannel: number = OFFICIAL_DEFAULTS.leastScChannel;
	if (root.model_config !== undefined && root.model_config !== null) {
		const modelPathKey: KeySegment[] = ['model_config'];
		const model = readMapping(root.model_config, modelPathKey, "Write model_config: {SparseCausalAttention_index: ['mid'], least_sc_channel: 640}.");
		applyKeyRules(model, modelPathKey, MODEL_KEYS, report);
		if (model.SparseCausalAttention_index !== undefined) attention = readReferenceFrames(model.SparseCausalAttention_index, [...modelPathKey, 'SparseCausalAttention_index'], report);
		if (model.least_sc_channel !== undefined && model.least_sc_channel !== null) {
			leastScChannel = readNumber(model.least_sc_channel, [...modelPathKey, 'least_sc_channel'], {integer: true, min: 0, todo: 'Give a channel count: UNet levels with fewer channels use per-frame self-attention (640 in the style configs).'});
		}
	}

	// seed
	let seed: number | null = null;
	if (root.seed !== undefined && root.seed !== null) {
		seed = readNumber(root.seed, ['seed'], {integer: true, todo: 'Give a whole number (0 in the shipped configs).'});
		report.warnings.push(
			`seed ${seed} has no effect here: the VAE encodes the frames to the latent mean (the official code samples the latent distribution with this seed), and DDIM with eta 0 is deterministic.`,
		);
	}

	// test_pipeline_config
	if (root.test_pipeline_config !== undefined && root.test_pipeline_config !== null) {
		const pipelinePath: KeySegment[] = ['test_pipeline_config'];
		const pipeline = readMapping(root.test_pipeline_config, pipelinePath, 'Write test_pipeline_config: {target: video_diffusion.pipelines.p2p_ddim_spatial_temporal.P2pDDIMSpatioTemporalPipeline}.');
		const rules: KeyRules = {target: 'used'};
		for (const key of Object.keys(pipeline)) if (key !== 'target') rules[key] = 'no effect: the official code only reads target (and params) here.';
		applyKeyRules(pipeline, pipelinePath, rules, report);
		if (pipeline.target !== undefined) {
			const target = readString(pipeline.target, [...pipelinePath, 'target'], 'Write the pipeline class path.');
			if (pipelineName(target) !== 'p2pddimspatiotemporalpipeline') {
				report.warnings.push(`test_pipeline_config.target is ${JSON.stringify(target)}: only P2pDDIMSpatioTemporalPipeline (FateZero's editing pipeline) is implemented here, and it is what runs.`);
			}
		}
	}

	// Interpolations that did not resolve but were never needed: the keys have no effect.
	for (const marker of unresolved) {
		const key = `${formatKeyPath(marker.path)}: `;
		report.notes = report.notes.filter((note) => !note.startsWith(key));
		report.notes.push(`${formatKeyPath(marker.path)} = ${JSON.stringify(marker.expression)} does not resolve (${marker.reason}); ignored, since that key has no effect here.`);
	}

	return {
		file,
		modelPath,
		dataset: {path: framesPath, prompt, start, count, stride, crop, sizeInPixels},
		edits,
		steps,
		guidance,
		attention,
		leastScChannel,
		seed,
		warnings: report.warnings,
		notes: report.notes,
	};
};
