import {createHash, type Hash} from 'node:crypto';
import {closeSync, existsSync, openSync, readFileSync, readSync} from 'node:fs';
import path from 'node:path';
import type {WeightFile} from './weight-problems.js';
import type {ComponentConfigs} from './parse-component-configs.js';
import type {ModelComponent} from './find-component-weights.js';

// Bump when what goes into the hash changes, so caches keyed by the old recipe miss.
const RECIPE = 'fatezero-model-identity/1';

/** Bytes sampled at the start and at the middle of every tensor. */
const SAMPLE_BYTES = 32;

// Tokenizer files change token ids, and with them every cached text embedding and inversion.
const TOKENIZER_FILES = ['vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json', 'added_tokens.json'];

const hashWeightFile = (hash: Hash, modelDir: string, file: WeightFile) => {
	const {index} = file;
	hash.update(`file ${file.location} ${index.fileSizeInBytes} ${JSON.stringify(index.metadata)}\n`);
	const tensors = [...index.tensors.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
	const sample = Buffer.alloc(SAMPLE_BYTES);
	const fd = openSync(path.join(modelDir, file.location), 'r');
	try {
		for (const t of tensors) {
			hash.update(`${t.name} ${t.dtype} [${t.shape.join(',')}] ${t.byteOffset} ${t.byteLength}\n`);
			for (const at of [0, Math.floor(t.byteLength / 2)]) {
				const n = readSync(fd, sample, 0, Math.min(SAMPLE_BYTES, t.byteLength - at), t.byteOffset + at);
				hash.update(sample.subarray(0, n));
			}
		}
	} finally {
		closeSync(fd);
	}
};

/**
 * A SHA-256 hex digest that keys graph and inversion caches: the parsed configs, the tokenizer
 * files, and for every safetensors file its size, header (names, dtypes, shapes, offsets) and
 * 64 sampled bytes per tensor. Headers alone are not enough: two fine-tunes of one base model
 * have byte-identical headers and sizes. The samples cost one small read per tensor (about a
 * thousand for SD-1.x), not the gigabytes a full hash would read. The folder path is left out
 * on purpose, so a moved or copied model keeps its caches.
 */
export const computeModelIdentity = (
	modelDir: string,
	configs: ComponentConfigs,
	weights: Record<ModelComponent, WeightFile[]>,
	tokenizerDir: string,
): string => {
	const hash = createHash('sha256');
	hash.update(`${RECIPE}\n`);
	hash.update(`configs ${JSON.stringify(configs)}\n`);
	for (const name of TOKENIZER_FILES) {
		const file = path.join(tokenizerDir, name);
		if (!existsSync(file)) continue;
		const bytes = readFileSync(file);
		hash.update(`tokenizer ${name} ${bytes.byteLength}\n`);
		hash.update(bytes);
	}
	for (const component of ['unet', 'vae', 'text_encoder'] as const) {
		hash.update(`component ${component}\n`);
		for (const file of weights[component]) hashWeightFile(hash, modelDir, file);
	}
	return hash.digest('hex');
};
