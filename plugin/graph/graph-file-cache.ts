import {createHash} from 'node:crypto';
import {existsSync, mkdirSync, renameSync, writeFileSync} from 'node:fs';
import path from 'node:path';

/**
 * Bump when any graph builder changes what it emits: every cached graph is rebuilt.
 */
export const GRAPH_BUILDER_VERSION = 10;

export type CachedGraph = {path: string; alreadyExisted: boolean};

/**
 * Generated .onnx files are small (weights stay in the user's safetensors files), but building
 * and validating them is not free at SD size, so they are cached under a key of everything that
 * shapes them: builder version, component, model identity (configs + weight headers) and options.
 */
export const graphCacheKey = (component: string, modelIdentity: string, options: unknown): string =>
	createHash('sha256')
		.update(JSON.stringify({version: GRAPH_BUILDER_VERSION, component, modelIdentity, options}))
		.digest('hex')
		.slice(0, 24);

/** Returns the cached graph path, building (and publishing atomically) when it is absent. */
export const getOrBuildGraph = (
	cacheDir: string,
	component: string,
	key: string,
	build: () => Uint8Array,
): CachedGraph => {
	const dir = path.join(cacheDir, 'graphs');
	const file = path.join(dir, `${component}-${key}.onnx`);
	if (existsSync(file)) return {path: file, alreadyExisted: true};
	const bytes = build();
	mkdirSync(dir, {recursive: true});
	// temp sibling + rename: a concurrent reader sees either nothing or the whole file
	const temp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
	writeFileSync(temp, bytes);
	renameSync(temp, file);
	return {path: file, alreadyExisted: false};
};
