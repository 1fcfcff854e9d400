import {realpathSync} from 'node:fs';
import path from 'node:path';
import type {ClipDescriptor} from '../clip/clip-descriptor.js';

export type RequestCheck = {ok: true; sourcePath: string} | {ok: false; status: 400 | 403; message: string};

const isInside = (root: string, target: string): boolean => {
	const relative = path.relative(root, target);
	return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
};

const realpathOrNull = (file: string): string | null => {
	try {
		return realpathSync(file);
	} catch {
		return null;
	}
};

/**
 * What a job request may touch. A descriptor comes from a browser tab, so it must not make the
 * server read files outside the project (its source is decoded and served back as frames) or load
 * a model folder nobody configured: the source must resolve inside the project root, also after
 * following symlinks, and the model must be null (the configured one) or the configured folder.
 */
export const checkJobRequest = (descriptor: ClipDescriptor, options: {projectRoot: string; allowedModels: readonly string[]}): RequestCheck => {
	const root = realpathOrNull(options.projectRoot) ?? path.resolve(options.projectRoot);
	const written = path.resolve(options.projectRoot, descriptor.source);
	if (!isInside(path.resolve(options.projectRoot), written)) {
		return {
			ok: false,
			status: 403,
			message: `source ${JSON.stringify(descriptor.source)} resolves to ${written}, outside the project root ${options.projectRoot}. The job server only reads footage inside the project: copy it there and use a relative path.`,
		};
	}
	const real = realpathOrNull(written);
	if (real === null) {
		return {
			ok: false,
			status: 400,
			message: `source ${JSON.stringify(descriptor.source)} does not exist (looked for ${written}). Source paths resolve against the project root ${options.projectRoot}; fix the path in the clip's props.`,
		};
	}
	if (!isInside(root, real)) {
		return {
			ok: false,
			status: 403,
			message: `source ${JSON.stringify(descriptor.source)} is a link to ${real}, outside the project root ${root}. The job server only reads footage inside the project: copy it there.`,
		};
	}
	if (descriptor.model !== null) {
		const model = path.resolve(options.projectRoot, descriptor.model);
		const realModel = realpathOrNull(model) ?? model;
		const allowed = options.allowedModels.map((dir) => realpathOrNull(dir) ?? path.resolve(dir));
		if (!allowed.includes(realModel)) {
			return {
				ok: false,
				status: 403,
				message: `model ${JSON.stringify(descriptor.model)} is not the model this job server was started with (${allowed.length ? allowed.join(', ') : 'none configured: the generated tiny model'}). Leave model out (null) to use the configured one, or restart with "fatezero studio --model ${descriptor.model}" (or FATEZERO_MODEL).`,
			};
		}
	}
	return {ok: true, sourcePath: real};
};
