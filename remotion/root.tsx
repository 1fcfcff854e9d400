import {Composition} from 'remotion';
import {fateZeroMetadata, setFateZeroEntryPoint} from '../plugin/index.js';
import {DemoSource} from '../compositions/demo-source.js';
import {vanGoghCar, watercolorCar} from '../compositions/demo-clips.js';
import {FateZeroShowcase, showcaseSchema} from '../compositions/fatezero-showcase.js';
import {ClipInSequence, clipInSequenceSchema} from '../compositions/clip-in-sequence.js';

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
	</>
);
