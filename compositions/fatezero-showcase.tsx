import {AbsoluteFill, interpolate, Series, useCurrentFrame} from 'remotion';
import {z} from 'zod';
import {clipDescriptorSchema} from '../plugin/index.js';
import {BeforeAfterWipe} from './before-after-wipe.js';
import {PictureInPicture} from './picture-in-picture.js';
import {StyleCrossfade} from './style-crossfade.js';

export const showcaseSchema = z.object({
	watercolor: clipDescriptorSchema,
	vanGogh: clipDescriptorSchema,
	/** Shown in the title card: whether the clips come from a real model or the generated tiny one. */
	note: z.string(),
});

const Title: React.FC<{text: string; note?: string}> = ({text, note}) => {
	const frame = useCurrentFrame();
	const opacity = interpolate(frame, [0, 8], [0, 1], {extrapolateRight: 'clamp'});
	return (
		<div style={{position: 'absolute', left: 24, top: 20, right: 24, opacity, fontFamily: 'sans-serif', color: 'white', textShadow: '0 2px 6px black'}}>
			<div style={{fontSize: 34, fontWeight: 700}}>{text}</div>
			{note ? <div style={{fontSize: 16, marginTop: 6}}>{note}</div> : null}
		</div>
	);
};

/** The demo: before/after wipe, a crossfade between two styles, and a picture-in-picture, with text and shapes on top. */
export const FateZeroShowcase: React.FC<z.infer<typeof showcaseSchema>> = ({watercolor, vanGogh, note}) => (
	<AbsoluteFill style={{background: 'black'}}>
		<Series>
			<Series.Sequence durationInFrames={48}>
				<BeforeAfterWipe clip={watercolor as never} />
				<Title text="Before / after" note={note} />
			</Series.Sequence>
			<Series.Sequence durationInFrames={48}>
				<StyleCrossfade from={watercolor as never} to={vanGogh as never} />
				<Title text="Watercolor → Van Gogh" />
			</Series.Sequence>
			<Series.Sequence durationInFrames={48}>
				<PictureInPicture clip={vanGogh as never} />
				<Title text="Edited, over its source" />
				<div style={{position: 'absolute', left: 24, bottom: 24, width: 80, height: 80, borderRadius: 40, border: '6px solid #ffcc00'}} />
			</Series.Sequence>
		</Series>
	</AbsoluteFill>
);
