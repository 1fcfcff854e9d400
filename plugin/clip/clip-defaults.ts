import type {ClipDescriptor} from './clip-descriptor.js';

type Defaults = Omit<ClipDescriptor, 'source' | 'sourcePrompt' | 'prompt' | 'label' | 'frameBaseUrl'>;

const deepFreeze = <T>(value: T): T => {
	if (value && typeof value === 'object') {
		for (const child of Object.values(value)) deepFreeze(child);
		Object.freeze(value);
	}
	return value;
};

/**
 * The one home of every clip default. The schema's descriptions quote these values and
 * `fateZeroClip()` applies them with `??`; nothing else may hard-code a default. Frozen, because
 * the canonical descriptor must never share a mutable object with it.
 */
// Typed shallowly readonly so `{...CLIP_DEFAULTS.edit, crossReplace: 0.5}` type-checks as
// descriptor input; the deep freeze still stops any mutation at run time.
export const CLIP_DEFAULTS: Readonly<Defaults> = deepFreeze({
	model: null,
	frames: {start: 0, count: 8, stride: 1, fps: null},
	size: 512,
	steps: 50,
	guidance: 7.5,
	seed: 0,
	edit: {
		crossReplace: 0.8,
		selfReplace: 0.8,
		reweight: {},
		blendWords: null,
		blendThreshold: 0.3,
		controller: 'auto',
		latentBlend: false,
	},
	attention: 'mid',
	// FateZero's style/attribute configs: UNet levels under 640 channels keep per-frame attention.
	leastScChannel: 640,
} satisfies Defaults);

/**
 * Fields that never change pixels. They stay in the descriptor (for people and tools) but are
 * left out of the descriptor key, so renaming a clip reuses its cache.
 */
export const NON_PIXEL_FIELDS = ['label', 'frameBaseUrl'] as const satisfies readonly (keyof ClipDescriptor)[];
