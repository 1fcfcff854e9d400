import {displayLabel} from '../clip/clip-limits.js';
import type {ClipJobResult} from '../jobs/run-clip-job.js';
import {formatTable} from './progress-display.js';

/** The table every project command ends with, plus a warning for clips of the generated model. */
export const clipSummary = (clips: readonly ClipJobResult[]): string => {
	const table = formatTable(
		['clip', 'key', 'source', 'inversion', 'edit', 'model'],
		clips.map((c) => [displayLabel(c.descriptor.label ?? c.descriptor.prompt, 30), c.key.slice(0, 12), c.statuses.source, c.statuses.inversion, c.statuses.clip, c.generatedModel ? 'GENERATED (noise)' : 'configured']),
	);
	const generated = clips.filter((c) => c.generatedModel).length;
	const warning = generated
		? `\n⚠ ${generated} of ${clips.length} clips were edited with the generated random-weight model (generated:tiny): their frames are noise. Configure a real Stable Diffusion 1.x model for real edits.`
		: '';
	return `${table}${warning}`;
};

export const clipsJson = (clips: readonly ClipJobResult[]) => clips.map((c) => ({key: c.key, status: c.status, path: c.path, publicPath: c.publicPath, generatedModel: c.generatedModel}));
