import {fateZeroClip, type ClipDescriptor} from '../plugin/index.js';

/** Where `npm run demo` renders the demo's own source footage (DemoSource) before editing it. */
export const DEMO_SOURCE = 'out/demo-source.mp4';

const common = {
	source: DEMO_SOURCE,
	sourcePrompt: 'a silver car driving down a curvy road in the countryside',
	frames: {start: 0, count: 8, stride: 4},
	size: 256,
	steps: 20,
} as const;

/** Two styled variants of the same source: they share one import and one inversion. */
export const watercolorCar: ClipDescriptor = fateZeroClip({
	...common,
	label: 'watercolor',
	prompt: 'watercolor painting of a silver car driving down a curvy road in the countryside',
	edit: {reweight: {watercolor: 10}},
});

export const vanGoghCar: ClipDescriptor = fateZeroClip({
	...common,
	label: 'van-gogh',
	prompt: 'van gogh style painting of a silver car driving down a curvy road in the countryside',
	edit: {reweight: {gogh: 5}},
});
