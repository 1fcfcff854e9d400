import {mkdirSync, renameSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import type {OnJobPreview} from './live-preview.js';

/**
 * Live previews as files, for CLI users (`fatezero run --preview-dir DIR`): every preview is kept
 * as `<stage>-<step>.png` (e.g. invert-0007.png, edit-0012.png), and `latest.png` is replaced
 * atomically (an image viewer that reloads it never reads half a file).
 */
export const previewFiles = (dir: string): OnJobPreview => {
	mkdirSync(dir, {recursive: true});
	return ({stage, step, png}) => {
		const name = `${stage}-${String(step).padStart(4, '0')}.png`;
		writeFileSync(path.join(dir, name), png);
		const temporary = path.join(dir, `.latest-${process.pid}.png`);
		writeFileSync(temporary, png);
		renameSync(temporary, path.join(dir, 'latest.png'));
	};
};
