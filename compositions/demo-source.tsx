import {AbsoluteFill, interpolate, useCurrentFrame, useVideoConfig} from 'remotion';

/**
 * The demo's source footage, rendered by Remotion itself so the demo runs on a fresh machine:
 * a little car driving along a winding road under a moving sky.
 */
export const DemoSource: React.FC = () => {
	const frame = useCurrentFrame();
	const {durationInFrames, width} = useVideoConfig();
	const t = frame / durationInFrames;
	const x = interpolate(t, [0, 1], [-0.15, 1.05]) * width;
	const y = width * (0.62 + 0.06 * Math.sin(t * Math.PI * 2));
	return (
		<AbsoluteFill style={{background: `linear-gradient(#7fb3e6 0%, #cfe6f7 ${45 + 10 * t}%, #6f9d4f 55%, #44723a 100%)`}}>
			<div style={{position: 'absolute', left: width * (0.1 + 0.3 * t), top: width * 0.12, width: width * 0.22, height: width * 0.08, borderRadius: 40, background: 'white', opacity: 0.85}} />
			<svg width={width} height={width} style={{position: 'absolute'}}>
				<path d={`M 0 ${width * 0.7} C ${width * 0.3} ${width * 0.55}, ${width * 0.6} ${width * 0.8}, ${width} ${width * 0.62}`} stroke="#555" strokeWidth={width * 0.09} fill="none" />
			</svg>
			<div style={{position: 'absolute', left: x, top: y - width * 0.06, width: width * 0.16, height: width * 0.07, background: '#c0c4c8', borderRadius: 10, boxShadow: '0 6px 0 #222'}} />
		</AbsoluteFill>
	);
};
