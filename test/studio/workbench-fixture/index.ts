// Entry of the Studio workbench test's Remotion project (test/studio/studio-workbench.test.ts).
import {registerRoot} from 'remotion';
import {WorkbenchRoot} from './workbench-root.js';

registerRoot(WorkbenchRoot);
