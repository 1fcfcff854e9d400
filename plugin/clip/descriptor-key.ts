import {NON_PIXEL_FIELDS} from './clip-defaults.js';
import type {ClipDescriptor} from './clip-descriptor.js';
import type {ClipDescriptorInput} from './clip-descriptor-schema.js';
import {canonicalJson, type JsonValue} from './canonical-json.js';
import {ENGINE_VERSION} from './engine-version.js';
import {parseClipDescriptor} from './fatezero-clip.js';
import {sha256Hex} from './sha256-hex.js';

/**
 * What the descriptor key hashes: the engine version and the canonical descriptor (defaults
 * applied, equivalent spellings unified) without its non-pixel fields. The source is the path as
 * written and the model as written (or null): the browser cannot read files, so content enters
 * only the content keys (plugin/frame-cache/content-keys.ts).
 */
export const descriptorKeyInputs = (descriptor: ClipDescriptorInput | ClipDescriptor): {engineVersion: string; clip: JsonValue} => {
	const clip: Partial<ClipDescriptor> = {...parseClipDescriptor(descriptor)};
	for (const field of NON_PIXEL_FIELDS) delete clip[field];
	return {engineVersion: ENGINE_VERSION, clip: clip as JsonValue};
};

/**
 * The descriptor key: SHA-256 hex of the canonical JSON of `descriptorKeyInputs`. Pure and
 * synchronous; the same in Node and in the browser bundle. Names `cache/index/<key>.json`.
 */
export const descriptorKey = (descriptor: ClipDescriptorInput | ClipDescriptor): string => sha256Hex(canonicalJson(descriptorKeyInputs(descriptor)));
