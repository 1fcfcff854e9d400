import {Composition} from 'remotion';
import {fateZeroMetadata, setFateZeroEntryPoint, studioClipToDescriptor} from '../plugin/index.js';
import {DemoSource} from '../compositions/demo-source.js';
import {vanGoghCar, watercolorCar} from '../compositions/demo-clips.js';
import {FateZeroShowcase, showcaseSchema} from '../compositions/fatezero-showcase.js';
import {ClipInSequence, clipInSequenceSchema} from '../compositions/clip-in-sequence.js';
import {EditInStudio, editInStudioSchema} from '../compositions/edit-in-studio.js';
import {RENDER_BENCH_FRAMES, RenderBenchEdited, renderBenchEditedSchema, RenderBenchPlain, renderBenchPlainSchema} from '../compositions/render-bench.js';

setFateZeroEntryPoint('remotion/index.ts');

export const RemotionRoot: React.FC = () => (
	<>
		<Composition id="DemoSource" component={DemoSource} durationInFrames={64} fps={16} width={512} height={512} />
		<Composition
			id="FateZeroShowcase"
			component={FateZeroShowcase}
			schema={showcaseSchema}
			calculateMetadata={fateZeroMetadata()}
			durationInFrames={144}
			fps={24}
			width={512}
			height={512}
			defaultProps={{watercolor: watercolorCar, vanGogh: vanGoghCar, note: 'remotion-fatezero demo'}}
		/>
		<Composition
			id="ClipInSequence"
			component={ClipInSequence}
			schema={clipInSequenceSchema}
			calculateMetadata={fateZeroMetadata()}
			durationInFrames={30}
			fps={30}
			width={128}
			height={128}
			defaultProps={{clip: watercolorCar, from: 6}}
		/>
		{/* Literal props in the Studio-editable form: edit them in Studio's props panel and save them back here */}
		<Composition
			id="EditInStudio"
			component={EditInStudio}
			schema={editInStudioSchema}
			calculateMetadata={fateZeroMetadata({durationFromClip: {clip: (props) => studioClipToDescriptor(props.clip), fps: 24}})}
			durationInFrames={48}
			fps={24}
			width={512}
			height={512}
			defaultProps={{
				clip: {
					source: 'out/demo-source.mp4',
					sourcePrompt: 'a silver car driving down a curvy road in the countryside',
					prompt: 'watercolor painting of a silver car driving down a curvy road in the countryside',
					model: null,
					frames: {start: 0, count: 8, stride: 4, fps: null},
					size: 256,
					steps: 20,
					guidance: 7.5,
					seed: 0,
					edit: {
						crossReplaceStart: 0,
						crossReplaceEnd: 0.8,
						crossReplaceWords: [],
						selfReplaceStart: 0,
						selfReplaceEnd: 0.8,
						reweight: [{word: 'watercolor', weight: 10}],
						blendSourceWords: [],
						blendTargetWords: [],
						blendThreshold: 0.3,
						controller: 'auto',
						latentBlend: false,
					},
					attention: 'mid',
					customAttention: [],
					leastScChannel: 640,
					label: 'watercolor',
				},
			}}
		/>
		{/* `npm run bench:render`: two edited clips vs the same PNGs as plain <Img> sequences */}
		<Composition
			id="RenderBenchEdited"
			component={RenderBenchEdited}
			schema={renderBenchEditedSchema}
			calculateMetadata={fateZeroMetadata()}
			durationInFrames={RENDER_BENCH_FRAMES}
			fps={30}
			width={512}
			height={256}
			defaultProps={{left: watercolorCar, right: vanGoghCar}}
		/>
		<Composition
			id="RenderBenchPlain"
			component={RenderBenchPlain}
			schema={renderBenchPlainSchema}
			durationInFrames={RENDER_BENCH_FRAMES}
			fps={30}
			width={512}
			height={256}
			defaultProps={{left: {dir: 'sources/none/frames', frameCount: 1, fps: 10}, right: {dir: 'sources/none/frames', frameCount: 1, fps: 10}}}
		/>
	</>
);
