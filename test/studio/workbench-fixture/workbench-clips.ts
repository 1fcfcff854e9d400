import {fateZeroClip} from '../../../plugin/clip/fatezero-clip.js';

/** Folders the test writes into the job server's project root. */
export const WORKBENCH_SOURCE = 'workbench-frames';
export const FLAKY_SOURCE = 'flaky-frames';

const base = {source: WORKBENCH_SOURCE, sourcePrompt: 'a silver jeep driving down a road', size: 64, frames: {count: 4}, leastScChannel: 64};

/** Edited in the props panel by typing a new prompt. */
export const typedClip = fateZeroClip({...base, prompt: 'a red car driving down a road', label: 'typed', steps: 4});
/** Long enough (hundreds of steps) to be cancelled while it runs (after its draft). */
export const slowClip = fateZeroClip({...base, prompt: 'a slow car', label: 'slow', steps: 400});
/** Left while it runs (another composition opened): cancelled as unused after the grace period. */
export const orphanClip = fateZeroClip({...base, prompt: 'an orphaned car', label: 'orphan', steps: 999});
/** Its source folder is emptied by the test, then filled again. */
export const flakyClip = fateZeroClip({...base, source: FLAKY_SOURCE, prompt: 'a flaky car', label: 'flaky', steps: 3});
/** 6 frames: the composition's duration follows it. */
export const durationClip = fateZeroClip({...base, frames: {count: 6}, prompt: 'a long car', label: 'duration', steps: 3});
/** 30 steps: Studio computes its 12-step draft first. */
export const draftedClip = fateZeroClip({...base, prompt: 'a drafted car', label: 'drafted', steps: 30});
/** Draft settings leave it as it is (under 12 steps at 64²): no draft, and an inversion of its own (no other clip has 11 steps), so both stages show previews. */
export const previewClip = fateZeroClip({...base, prompt: 'a previewed car', label: 'preview', steps: 11});
