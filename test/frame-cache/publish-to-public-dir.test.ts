import {existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {describe, expect, it} from 'vitest';
import {fateZeroClip} from '../../plugin/clip/fatezero-clip.js';
import {descriptorKey} from '../../plugin/clip/descriptor-key.js';
import type {CacheFs} from '../../plugin/frame-cache/cache-fs.js';
import {nodeCacheFs} from '../../plugin/frame-cache/cache-fs.js';
import {publishEntry} from '../../plugin/frame-cache/publish-entry.js';
import {publishToPublicDir} from '../../plugin/frame-cache/publish-to-public-dir.js';
import {frameBytes, tempCacheDir, writeTestFrames} from './cache-test-helpers.js';

const root = tempCacheDir('public-dir');
const descriptor = fateZeroClip({source: 'clip.mp4', sourcePrompt: 'a jeep', prompt: 'a red jeep'});
const dKey = descriptorKey(descriptor);

const storeWithClip = async (name: string) => {
	const cacheDir = path.join(root, name, 'cache');
	const clip = await publishEntry({cacheDir, kind: 'clips', key: 'e'.repeat(64), write: writeTestFrames(3)});
	await publishEntry({
		cacheDir,
		kind: 'sources',
		key: 's'.repeat(64),
		write: async (_dir, writer) => {
			for (let f = 0; f < 3; f++) await writer.writeFile(`frames/${String(f).padStart(5, '0')}.png`, frameBytes(f, 512, 9));
			await writer.writeFile('pixels.safetensors', 'heavy');
			return {keyInputs: {}, frameCount: 3};
		},
	});
	return {cacheDir, clip, target: {cacheDir, publicDir: path.join(root, name, 'public'), record: {descriptorKey: dKey, editKey: 'e'.repeat(64), sourceKey: 's'.repeat(64), inversionKey: 'i'.repeat(64), descriptor}, clipManifest: clip.manifest, sourceFrameCount: 3}};
};

describe('publishToPublicDir', () => {
	it('publishes the frames the browser reads (hard links into the store) and the index record; the heavy data stays in the store', async () => {
		const {cacheDir, target} = await storeWithClip('plain');
		mkdirSync(target.publicDir, {recursive: true});
		writeFileSync(path.join(target.publicDir, 'logo.png'), 'the user\'s own');
		const dir = await publishToPublicDir(target);
		expect(dir).toBe(path.join(target.publicDir, 'fatezero'));
		expect(readdirSync(target.publicDir).sort()).toEqual(['fatezero', 'logo.png']);
		expect(readdirSync(path.join(dir, 'clips', 'e'.repeat(64))).sort()).toEqual(['00000.png', '00001.png', '00002.png', 'manifest.json']);
		expect(readdirSync(path.join(dir, 'sources', 's'.repeat(64)))).toEqual(['frames']);
		const published = path.join(dir, 'clips', 'e'.repeat(64), '00001.png');
		expect(statSync(published).ino).toBe(statSync(path.join(cacheDir, 'clips', 'e'.repeat(64), '00001.png')).ino);
		const record = JSON.parse(readFileSync(path.join(dir, 'index', `${dKey}.json`), 'utf8'));
		expect(record).toMatchObject({editKey: 'e'.repeat(64), sourceKey: 's'.repeat(64), generatedModel: false});
		// idempotent: a second publication keeps the entry and rewrites the index
		await publishToPublicDir(target);
		expect(readdirSync(path.join(dir, 'clips'))).toEqual(['e'.repeat(64)]);
	});

	it('a publication that fails midway leaves no index record, and the next one replaces the incomplete folder', async () => {
		const {target} = await storeWithClip('failing');
		let linksLeft = 2;
		const failing: CacheFs = {
			...nodeCacheFs,
			// the rename that would make the clip folder appear fails, as a full disk would
			rename: async (from, to) => {
				if (to.includes(`${path.sep}clips${path.sep}`) && linksLeft-- > 0) throw Object.assign(new Error('no space left'), {code: 'ENOSPC'});
				return nodeCacheFs.rename(from, to);
			},
		};
		await expect(publishToPublicDir({...target, fs: failing})).rejects.toThrow();
		const dir = path.join(target.publicDir, 'fatezero');
		expect(existsSync(path.join(dir, 'index', `${dKey}.json`))).toBe(false);
		expect(existsSync(path.join(dir, 'clips', 'e'.repeat(64)))).toBe(false);
		// an incomplete folder left by a killed process (no manifest) is replaced
		mkdirSync(path.join(dir, 'clips', 'e'.repeat(64)), {recursive: true});
		writeFileSync(path.join(dir, 'clips', 'e'.repeat(64), '00000.png'), 'half');
		await publishToPublicDir(target);
		expect(readdirSync(path.join(dir, 'clips', 'e'.repeat(64))).sort()).toEqual(['00000.png', '00001.png', '00002.png', 'manifest.json']);
		expect(readFileSync(path.join(dir, 'clips', 'e'.repeat(64), '00000.png')).equals(frameBytes(0, 4096, 1))).toBe(true);
		expect(existsSync(path.join(dir, 'index', `${dKey}.json`))).toBe(true);
	});
});
