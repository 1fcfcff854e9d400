import {AbsoluteFill, Img, staticFile, useCurrentFrame, useVideoConfig} from 'remotion';
import {z} from 'zod';
import {clipDescriptorSchema, clipFrameAt, FateZeroClip} from '../plugin/index.js';

// Two compositions that show the same PNG frames in the same layout, for `npm run bench:render`:
// one through <FateZeroClip> (descriptor → cache lookup → frames), one as plain <Img> image
// sequences. Their render times differ only by what the plugin adds.

export const RENDER_BENCH_FRAMES = 120;

export const renderBenchEditedSchema = z.object({left: clipDescriptorSchema, right: clipDescriptorSchema});

/** A cached clip's frames as a plain image sequence: `<dir>/00000.png` … at `fps`. */
const imageSequenceSchema = z.object({dir: z.string(), frameCount: z.number().int().min(1), fps: z.number().positive()});
export const renderBenchPlainSchema = z.object({left: imageSequenceSchema, right: imageSequenceSchema});

const half = (side: 'left' | 'right'): React.CSSProperties => ({position: 'absolute', top: 0, bottom: 0, width: '50%', [side]: 0});
const fill: React.CSSProperties = {width: '100%', height: '100%', objectFit: 'cover'};

export const RenderBenchEdited: React.FC<z.infer<typeof renderBenchEditedSchema>> = ({left, right}) => (
	<AbsoluteFill style={{background: 'black'}}>
		<div style={half('left')}>
			<FateZeroClip clip={left as never} loop />
		</div>
		<div style={half('right')}>
			<FateZeroClip clip={right as never} loop />
		</div>
	</AbsoluteFill>
);

const ImageSequence: React.FC<z.infer<typeof imageSequenceSchema>> = ({dir, frameCount, fps: clipFps}) => {
	const frame = useCurrentFrame();
	const {fps} = useVideoConfig();
	// the same frame mapping as <FateZeroClip loop>, so both compositions show the same files
	const index = clipFrameAt(frame, fps, clipFps, 1, frameCount, true);
	return <Img src={staticFile(`${dir}/${String(index).padStart(5, '0')}.png`)} style={fill} />;
};

export const RenderBenchPlain: React.FC<z.infer<typeof renderBenchPlainSchema>> = ({left, right}) => (
	<AbsoluteFill style={{background: 'black'}}>
		<div style={half('left')}>
			<ImageSequence {...left} />
		</div>
		<div style={half('right')}>
			<ImageSequence {...right} />
		</div>
	</AbsoluteFill>
);
