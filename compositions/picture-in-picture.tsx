import {AbsoluteFill, spring, useCurrentFrame, useVideoConfig} from 'remotion';
import {FateZeroClip, type ClipDescriptor} from '../plugin/index.js';

/** The edited clip as a picture-in-picture that springs in over its source. */
export const PictureInPicture: React.FC<{clip: ClipDescriptor}> = ({clip}) => {
	const frame = useCurrentFrame();
	const {fps, width} = useVideoConfig();
	const scale = spring({frame, fps, config: {damping: 12}});
	const side = width * 0.42;
	return (
		<AbsoluteFill>
			<FateZeroClip clip={clip} variant="source" />
			<div style={{position: 'absolute', right: width * 0.05, bottom: width * 0.05, width: side, height: side, transform: `scale(${scale})`, transformOrigin: 'bottom right', border: '6px solid white', borderRadius: 12, overflow: 'hidden', boxShadow: '0 10px 30px rgba(0,0,0,0.5)'}}>
				<FateZeroClip clip={clip} />
			</div>
		</AbsoluteFill>
	);
};
