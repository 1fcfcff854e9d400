import {registerRoot} from 'remotion';
import {RemotionRoot} from './root.js';

registerRoot(RemotionRoot);
