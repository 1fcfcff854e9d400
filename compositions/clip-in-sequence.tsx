import {AbsoluteFill, Sequence} from 'remotion';
import {z} from 'zod';
import {clipDescriptorSchema, FateZeroClip} from '../plugin/index.js';

export const clipInSequenceSchema = z.object({clip: clipDescriptorSchema, from: z.number().int().min(0)});

/** An edited clip starting at `from` inside a composition of another fps (used by the render tests). */
export const ClipInSequence: React.FC<z.infer<typeof clipInSequenceSchema>> = ({clip, from}) => (
	<AbsoluteFill style={{background: 'black'}}>
		<Sequence from={from}>
			<FateZeroClip clip={clip as never} />
		</Sequence>
	</AbsoluteFill>
);
