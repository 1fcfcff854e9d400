import {AbsoluteFill, interpolate, useCurrentFrame, useVideoConfig} from 'remotion';
import {FateZeroClip, type ClipDescriptor} from '../plugin/index.js';

/** Source on the left, edit on the right, with a wipe that sweeps across and back. */
export const BeforeAfterWipe: React.FC<{clip: ClipDescriptor}> = ({clip}) => {
	const frame = useCurrentFrame();
	const {durationInFrames, width} = useVideoConfig();
	const split = interpolate(frame, [0, durationInFrames / 2, durationInFrames], [0.15, 0.85, 0.5]);
	return (
		<AbsoluteFill>
			<FateZeroClip clip={clip} variant="source" />
			<AbsoluteFill style={{clipPath: `inset(0 0 0 ${split * 100}%)`}}>
				<FateZeroClip clip={clip} />
			</AbsoluteFill>
			<div style={{position: 'absolute', left: split * width - 2, top: 0, bottom: 0, width: 4, background: 'white'}} />
		</AbsoluteFill>
	);
};
