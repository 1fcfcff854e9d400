import {AbsoluteFill, Composition, useVideoConfig} from 'remotion';
import {z} from 'zod';
import {clipDescriptorSchema, FateZeroClip, fateZeroMetadata, studioClip, studioClipSchema} from '../../../plugin/index.js';
import {draftedClip, durationClip, flakyClip, orphanClip, previewClip, slowClip, typedClip} from './workbench-clips.js';

const schema = z.object({clip: clipDescriptorSchema});
// the Studio-editable form: every field has an editor in the props panel
const studioSchema = z.object({clip: studioClipSchema});

/** The clip, plus the composition's duration in a data attribute (the test reads it). */
const ClipWithDuration: React.FC<z.infer<typeof schema>> = ({clip}) => {
	const {durationInFrames} = useVideoConfig();
	return (
		<AbsoluteFill data-workbench-duration={durationInFrames}>
			<FateZeroClip clip={clip as never} />
		</AbsoluteFill>
	);
};

const common = {component: ClipWithDuration, schema, fps: 10, width: 256, height: 256} as const;

/** The Studio workbench test's project: one composition per behaviour under test. */
export const WorkbenchRoot: React.FC = () => (
	<>
		<Composition
			id="TypedPrompt"
			{...common}
			component={ClipWithDuration as never}
			schema={studioSchema}
			calculateMetadata={fateZeroMetadata()}
			durationInFrames={4}
			defaultProps={{clip: studioClip(typedClip)}}
		/>
		<Composition id="SlowClip" {...common} calculateMetadata={fateZeroMetadata()} durationInFrames={4} defaultProps={{clip: slowClip}} />
		<Composition id="OrphanClip" {...common} calculateMetadata={fateZeroMetadata()} durationInFrames={4} defaultProps={{clip: orphanClip}} />
		<Composition id="FlakyClip" {...common} calculateMetadata={fateZeroMetadata()} durationInFrames={4} defaultProps={{clip: flakyClip}} />
		<Composition id="DraftedClip" {...common} calculateMetadata={fateZeroMetadata()} durationInFrames={4} defaultProps={{clip: draftedClip}} />
		<Composition id="PreviewClip" {...common} calculateMetadata={fateZeroMetadata()} durationInFrames={4} defaultProps={{clip: previewClip}} />
		<Composition
			id="DurationClip"
			{...common}
			calculateMetadata={fateZeroMetadata({durationFromClip: {clip: (props) => props.clip as never, fps: 10}})}
			durationInFrames={1}
			defaultProps={{clip: durationClip}}
		/>
	</>
);
