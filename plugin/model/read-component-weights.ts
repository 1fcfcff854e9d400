import {existsSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {FateZeroError} from '../errors/fatezero-error.js';
import type {WeightFile} from './weight-problems.js';
import type {ComponentWeightFiles, ModelComponent} from './find-component-weights.js';
import {readSafetensorsIndex, type SafetensorsIndex} from './safetensors-file.js';

const REDOWNLOAD = (component: ModelComponent) => `Download ${component}/ again (all of its files, from the same revision).`;

/** readSafetensorsIndex, with the component and model folder in any message. */
const readIndex = (modelDir: string, component: ModelComponent, location: string): SafetensorsIndex => {
	try {
		return readSafetensorsIndex(path.join(modelDir, location));
	} catch (error) {
		// readSafetensorsIndex's own messages already say what to do; file-system errors do not.
		const detail =
			error instanceof FateZeroError ? error.message : `${(error as Error).message}. Check that the file exists and is readable.`;
		throw new FateZeroError('MODEL_WEIGHTS_INVALID', `The ${component} weights of ${modelDir} cannot be read: ${detail}`, {cause: error});
	}
};

const readShardMap = (modelDir: string, component: ModelComponent, indexFile: string): Map<string, string> => {
	const where = path.join(modelDir, indexFile);
	const invalid = (what: string) =>
		new FateZeroError('MODEL_WEIGHTS_INVALID', `${where} (the ${component} shard index) ${what}. ${REDOWNLOAD(component)}`);
	let json: unknown;
	try {
		json = JSON.parse(readFileSync(where, 'utf8'));
	} catch (error) {
		throw invalid(`is not valid JSON (${(error as Error).message})`);
	}
	const weightMap = (json as {weight_map?: unknown} | null)?.weight_map;
	if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
		throw invalid('has no "weight_map" object');
	}
	const map = new Map<string, string>();
	for (const [tensor, shard] of Object.entries(weightMap)) {
		// Shards sit beside the index; anything else would let an index point outside the model.
		if (typeof shard !== 'string' || !shard.endsWith('.safetensors') || /[\\/]|^\.\.?$/.test(shard)) {
			throw invalid(`maps tensor "${tensor}" to ${JSON.stringify(shard)}, expected a .safetensors file name in ${component}/`);
		}
		map.set(tensor, shard);
	}
	if (map.size === 0) throw invalid('has an empty "weight_map"');
	return map;
};

/**
 * Reads the safetensors headers of one component: one WeightFile for a single file, one per
 * shard (in name order) for a sharded save. Checks that every shard the index names exists and
 * holds the tensors the index puts there, so a half-finished download fails here by name.
 */
export const readComponentWeights = (
	modelDir: string,
	component: ModelComponent,
	found: Extract<ComponentWeightFiles, {kind: 'single' | 'sharded'}>,
): WeightFile[] => {
	if (found.kind === 'single') return [{location: found.file, index: readIndex(modelDir, component, found.file)}];

	const map = readShardMap(modelDir, component, found.indexFile);
	const shards = [...new Set(map.values())].sort();
	const absent = shards.filter((shard) => !existsSync(path.join(modelDir, component, shard)));
	if (absent.length > 0) {
		throw new FateZeroError(
			'MODEL_FILE_MISSING',
			`${path.join(modelDir, found.indexFile)} lists ${shards.length} shards, but ${absent.length} ${absent.length === 1 ? 'is' : 'are'} missing: ${absent.map((s) => `${component}/${s}`).join(', ')}. ${REDOWNLOAD(component)}`,
		);
	}
	const files = shards.map((shard) => {
		const location = `${component}/${shard}`;
		return {location, index: readIndex(modelDir, component, location)};
	});
	const byLocation = new Map(files.map((file) => [file.location, file.index]));
	for (const [tensor, shard] of map) {
		if (!byLocation.get(`${component}/${shard}`)!.tensors.has(tensor)) {
			throw new FateZeroError(
				'MODEL_WEIGHTS_INVALID',
				`${path.join(modelDir, found.indexFile)} puts tensor "${tensor}" in ${component}/${shard}, but that file has no such tensor: the shards and the index come from different saves. ${REDOWNLOAD(component)}`,
			);
		}
	}
	return files;
};
