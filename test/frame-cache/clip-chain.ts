import {readFileSync, writeFileSync} from 'node:fs';
import {vi} from 'vitest';
import {cacheCommand} from '../../plugin/cli/cache-command.js';
import {descriptorKey} from '../../plugin/clip/descriptor-key.js';
import {fateZeroClip} from '../../plugin/clip/fatezero-clip.js';
import {getOrCompute} from '../../plugin/frame-cache/compute-once.js';
import {writeIndex} from '../../plugin/frame-cache/descriptor-index.js';
import type {EntryComputeFn} from '../../plugin/frame-cache/publish-entry.js';
import {publishToPublicDir} from '../../plugin/frame-cache/publish-to-public-dir.js';
import {frameBytes, writeTestFrames} from './cache-test-helpers.js';

/** The keys of one clip job's chain: source S → inversion I → clip E. */
export const S = 'a'.repeat(64);
export const I = 'b'.repeat(64);
export const E = 'c'.repeat(64);
export const descriptor = fateZeroClip({source: 'clip.mp4', sourcePrompt: 'a jeep', prompt: 'a red jeep'});
export const dKey = descriptorKey(descriptor);

export const writeSource: EntryComputeFn = async (_dir, writer) => {
	for (let f = 0; f < 3; f++) await writer.writeFile(`frames/${String(f).padStart(5, '0')}.png`, frameBytes(f, 512, 5));
	await writer.writeFile('pixels.safetensors', frameBytes(9, 4096, 5));
	return {keyInputs: {contentHash: 'x'}, frameCount: 3};
};
export const writeInversion: EntryComputeFn = async (_dir, writer) => {
	await writer.writeFile('inversion.safetensors', frameBytes(7, 8192, 3));
	return {keyInputs: {sourceKey: S, sourcePrompt: 'a jeep', steps: 2}, frameCount: 3};
};
export const writeClip: EntryComputeFn = async (dir, writer) => {
	const fields = await writeTestFrames(3)(dir, writer);
	return {...fields, keyInputs: {inversionKey: I}, data: {sourceKey: S, inversionKey: I, descriptorKey: dKey}};
};

/** The chain a clip job builds (source → inversion → clip), its store index record, and (with a public dir) its public copy. */
export const buildChain = async (cacheDir: string, publicDir: string | null = null) => {
	await getOrCompute({cacheDir, kind: 'sources', key: S, compute: writeSource});
	await getOrCompute({cacheDir, kind: 'inversions', key: I, compute: writeInversion});
	const clip = await getOrCompute({cacheDir, kind: 'clips', key: E, compute: writeClip});
	const record = {descriptorKey: dKey, editKey: E, sourceKey: S, inversionKey: I, descriptor};
	await writeIndex(cacheDir, dKey, record);
	if (publicDir) await publishToPublicDir({cacheDir, publicDir, record, clipManifest: clip.manifest, sourceFrameCount: 3});
};

/** Flips a byte in place: same size, so only the hashes can tell. */
export const corrupt = (file: string) => {
	const bytes = readFileSync(file);
	bytes[bytes.length >> 1] ^= 0xff;
	writeFileSync(file, bytes);
};

/** Runs `fatezero cache …`, capturing what it prints. */
export const runCache = async (args: string[]) => {
	const lines: string[] = [];
	const spy = vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void lines.push(parts.join(' ')));
	try {
		return {code: await cacheCommand(args), out: lines.join('\n')};
	} finally {
		spy.mockRestore();
	}
};
