import type {CSSProperties} from 'react';
import {AbsoluteFill, Img, useCurrentFrame, useVideoConfig} from 'remotion';
import type {ClipDescriptor} from '../clip/clip-descriptor.js';
import {DraftBadge} from './draft-badge.js';
import {StudioProgressCard} from './studio-progress-card.js';
import {useFateZeroClip} from './use-fatezero-clip.js';

export type FateZeroClipProps = {
	/** The clip descriptor (fateZeroClip({...}) or the same JSON from props). */
	clip: ClipDescriptor | Record<string, unknown>;
	/** 'edited' (default) or 'source': the imported source frames, for before/after layouts. */
	variant?: 'edited' | 'source';
	/** How the square clip fills the element. Default 'cover'. */
	fit?: 'cover' | 'contain' | 'fill';
	/** Clip frames per composition frame relative to real time. Default 1. */
	playbackRate?: number;
	/**
	 * Clip frames per second to map composition time onto. Default: the clip's own fps, so each clip
	 * frame is held for compositionFps / clipFps composition frames.
	 */
	clipFps?: number;
	/** After the last frame: hold it (default) or start over. */
	loop?: boolean;
	style?: CSSProperties;
	className?: string;
	/** Shown while the clip is loading or not cached; default: in Studio, a progress card of the clip's job. */
	placeholder?: React.ReactNode;
};

/** The clip frame shown at composition frame `frame`: floor(t · clipFps · playbackRate), held or looped. */
export const clipFrameAt = (frame: number, compositionFps: number, clipFps: number, playbackRate: number, frameCount: number, loop: boolean): number => {
	const index = Math.floor(((frame / compositionFps) * clipFps * playbackRate) + 1e-9);
	return loop ? ((index % frameCount) + frameCount) % frameCount : Math.min(Math.max(index, 0), frameCount - 1);
};

/**
 * An edited video clip in a composition: shows the cached frames with <Img>, timed by the
 * composition's clock (so it works inside <Sequence>, <Series>, <Loop>, <Freeze>).
 */
export const FateZeroClip: React.FC<FateZeroClipProps> = ({clip, variant = 'edited', fit = 'cover', playbackRate = 1, clipFps, loop = false, style, className, placeholder}) => {
	const state = useFateZeroClip(clip);
	const frame = useCurrentFrame();
	const {fps} = useVideoConfig();
	if (state.status === 'missing' && placeholder === undefined) {
		return <StudioProgressCard descriptor={state.descriptor} descriptorKey={state.descriptorKey} job={state.job} className={className} style={style} />;
	}
	if (state.status !== 'ready') {
		return (
			<AbsoluteFill className={className} style={{background: '#111', color: '#ddd', justifyContent: 'center', alignItems: 'center', fontFamily: 'sans-serif', ...style}}>
				{placeholder ?? 'Loading FateZero clip…'}
			</AbsoluteFill>
		);
	}
	const index = clipFrameAt(frame, fps, clipFps ?? state.clip.fps, playbackRate, state.clip.frameCount, loop);
	const image = <Img src={state.frameUrl(index, variant)} className={className} style={{width: '100%', height: '100%', objectFit: fit, ...style}} />;
	if (!state.draft) return image;
	// Studio only: the draft's frames while the final clip is computed, marked
	return (
		<AbsoluteFill>
			{image}
			<DraftBadge descriptorKey={state.descriptorKey} job={state.job} />
		</AbsoluteFill>
	);
};
