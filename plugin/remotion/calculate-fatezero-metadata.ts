import type {CalculateMetadataFunction} from 'remotion';
import {getRemotionEnvironment} from 'remotion';
import type {ClipDescriptor} from '../clip/clip-descriptor.js';
import {descriptorKey} from '../clip/descriptor-key.js';
import {COLLECT_PROP, JOBS_PROP, prerenderCommand} from '../clip/collect-protocol.js';
import {findClipDescriptors} from '../clip/find-clip-descriptors.js';
import {resolveClip, type ResolvedClip} from './resolve-clip.js';

export type FateZeroMetadataOptions<Props extends Record<string, unknown>> = {
	/** Clips the composition shows that are not in its props (constants in code). */
	clips?: (props: Props) => ClipDescriptor[];
	/** Set the composition's duration to this clip's length at the composition's `fps`. */
	durationFromClip?: {clip: (props: Props) => ClipDescriptor | null; fps: number};
	/** Your own calculateMetadata, run after the clips are resolved. */
	calculateMetadata?: CalculateMetadataFunction<Props>;
};

/**
 * A calculateMetadata for compositions with FateZero clips. It resolves every clip (props and
 * `clips`) to its cache entry; while rendering, a missing clip fails at once with the exact
 * command to run (never a 30-second timeout). In discovery mode (the Node prerender sets
 * COLLECT_PROP) it only lists the clips. In Studio a missing clip is left to <FateZeroClip>,
 * which shows a progress card.
 */
export const fateZeroMetadata =
	<Props extends Record<string, unknown>>(options: FateZeroMetadataOptions<Props> = {}): CalculateMetadataFunction<Props> =>
	async (input) => {
		const {props, compositionId, abortSignal} = input;
		const clips = [...findClipDescriptors(props), ...(options.clips?.(props) ?? [])];
		if ((props as Record<string, unknown>)[COLLECT_PROP]) {
			return {props: {...props, [JOBS_PROP]: clips}};
		}
		const resolved = new Map<string, ResolvedClip | null>();
		for (const clip of clips) resolved.set(descriptorKey(clip), await resolveClip(clip, abortSignal));
		const missing = clips.filter((clip) => resolved.get(descriptorKey(clip)) === null);
		if (missing.length > 0 && (input.isRendering || getRemotionEnvironment().isRendering)) {
			const names = missing.map((clip) => `"${clip.label ?? clip.prompt}"`).join(', ');
			throw new Error(
				`FateZero cache miss: ${missing.length === 1 ? 'clip' : 'clips'} ${names} of composition "${compositionId}" ${missing.length === 1 ? 'is' : 'are'} not in the cache. Run \`${prerenderCommand(compositionId)}\` (or render with \`npx fatezero render\`, which pre-renders first).`,
			);
		}
		let result: Awaited<ReturnType<CalculateMetadataFunction<Props>>> = {};
		const durationClip = options.durationFromClip?.clip(props) ?? null;
		const resolvedDuration = durationClip ? (resolved.get(descriptorKey(durationClip)) ?? null) : null;
		if (resolvedDuration && options.durationFromClip) {
			result = {durationInFrames: Math.max(1, Math.round((resolvedDuration.frameCount / resolvedDuration.fps) * options.durationFromClip.fps))};
		}
		if (options.calculateMetadata) result = {...result, ...(await options.calculateMetadata(input))};
		return result;
	};
