import {AbsoluteFill, interpolate, useCurrentFrame, useVideoConfig} from 'remotion';
import {FateZeroClip, type ClipDescriptor} from '../plugin/index.js';

/** A crossfade between two styled variants of the same source. */
export const StyleCrossfade: React.FC<{from: ClipDescriptor; to: ClipDescriptor}> = ({from, to}) => {
	const frame = useCurrentFrame();
	const {durationInFrames} = useVideoConfig();
	const mix = interpolate(frame, [durationInFrames * 0.3, durationInFrames * 0.7], [0, 1], {extrapolateLeft: 'clamp', extrapolateRight: 'clamp'});
	return (
		<AbsoluteFill>
			<FateZeroClip clip={from} />
			<AbsoluteFill style={{opacity: mix}}>
				<FateZeroClip clip={to} />
			</AbsoluteFill>
		</AbsoluteFill>
	);
};
