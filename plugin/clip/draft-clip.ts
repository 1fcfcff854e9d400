import type {ClipDescriptor} from './clip-descriptor.js';

/**
 * Draft proxies, in one place: what Studio computes before a clip's final-quality job so the edit
 * can be judged in seconds. Half the size (down to a multiple of `sizeMultiple`, at least
 * `minSize`: SD-1.x latents are halved three times in the UNet) and at most `steps` DDIM steps, on
 * every frame so the draft plays like the final clip. Roughly 4× fewer pixels and 50 → 12 steps:
 * about a twentieth of the full job on a CPU (bench:studio measures it).
 */
export const DRAFT_SETTINGS = {
	sizeFactor: 0.5,
	sizeMultiple: 64,
	minSize: 64,
	steps: 12,
} as const;

/**
 * The draft of a clip: the same edit at draft settings, a descriptor of its own (its own key and
 * cache entry; a render looks up the final clip's key and never finds a draft). Null when the
 * draft would not be cheaper than the clip itself (small clips with few steps).
 */
export const draftClip = (clip: ClipDescriptor): ClipDescriptor | null => {
	const {sizeFactor, sizeMultiple, minSize, steps} = DRAFT_SETTINGS;
	const size = Math.min(clip.size, Math.max(minSize, Math.floor((clip.size * sizeFactor) / sizeMultiple) * sizeMultiple));
	const draftSteps = Math.min(clip.steps, steps);
	if (size === clip.size && draftSteps === clip.steps) return null;
	return {...clip, size, steps: draftSteps, label: `${(clip.label ?? clip.prompt).slice(0, 60)} (draft)`};
};
