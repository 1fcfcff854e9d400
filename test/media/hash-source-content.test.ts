import {createHash} from 'node:crypto';
import {copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {isFateZeroError} from '../../plugin/errors/fatezero-error.js';
import {FRAME_FOLDER_HASH_HEADER, hashSourceContent} from '../../plugin/media/hash-source-content.js';
import {footageDir, hasFootage} from '../helpers/golden.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'fatezero-media-hash-'));
afterAll(() => rmSync(root, {recursive: true, force: true}));

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const folder = (name: string, files: Record<string, string>): string => {
	const dir = path.join(root, name);
	mkdirSync(dir, {recursive: true});
	for (const [file, content] of Object.entries(files)) writeFileSync(path.join(dir, file), content);
	return dir;
};

let base = '';
beforeAll(() => {
	base = folder('base', {'00000.png': 'frame zero', '00001.png': 'frame one', '00002.png': 'frame two'});
});

describe('hashSourceContent', () => {
	it('a file: SHA-256 of its bytes (what sha256sum prints)', async () => {
		const file = path.join(root, 'clip.mp4');
		writeFileSync(file, Buffer.alloc(3_000_000, 7));
		expect(await hashSourceContent(file)).toBe(sha256(Buffer.alloc(3_000_000, 7)));
		// Renaming keeps the hash: it is the content's, not the path's.
		renameSync(file, path.join(root, 'renamed.mp4'));
		expect(await hashSourceContent(path.join(root, 'renamed.mp4'))).toBe(sha256(Buffer.alloc(3_000_000, 7)));
	});

	it.skipIf(!hasFootage)('car-turn.mp4 hashes to its known SHA-256', async () => {
		const car = path.join(footageDir, 'car-turn.mp4');
		expect(await hashSourceContent(car)).toBe(sha256(readFileSync(car)));
	});

	it('a folder: the documented recipe over frame names and content hashes, in frame order', async () => {
		const expected = sha256(
			FRAME_FOLDER_HASH_HEADER + ['00000.png', '00001.png', '00002.png'].map((name) => `"${name}" ${sha256(readFileSync(path.join(base, name)))}\n`).join(''),
		);
		expect(await hashSourceContent(base)).toBe(expected);
	});

	it('a folder: independent of its path and of non-frame files; changed by content, names, order and frame count', async () => {
		const hash = await hashSourceContent(base);
		const moved = folder('moved', {'00000.png': 'frame zero', '00001.png': 'frame one', '00002.png': 'frame two', 'notes.txt': 'x', 'Thumbs.db': 'y'});
		expect(await hashSourceContent(moved)).toBe(hash);
		const variants = [
			folder('changed', {'00000.png': 'frame zero', '00001.png': 'frame ONE', '00002.png': 'frame two'}),
			folder('renamed', {'00000.png': 'frame zero', '00001.png': 'frame one', '00003.png': 'frame two'}),
			folder('reordered', {'00000.png': 'frame zero', '00001.png': 'frame two', '00002.png': 'frame one'}),
			folder('extra', {'00000.png': 'frame zero', '00001.png': 'frame one', '00002.png': 'frame two', '00003.png': 'frame two'}),
			folder('jpeg', {'00000.jpg': 'frame zero', '00001.png': 'frame one', '00002.png': 'frame two'}),
		];
		const hashes = await Promise.all(variants.map((dir) => hashSourceContent(dir)));
		expect(new Set([hash, ...hashes]).size).toBe(variants.length + 1);
	});

	it('a folder hashes names in frame order (frame2 before frame10), the order the importer reads', async () => {
		const natural = folder('natural', {'frame2.png': 'b', 'frame10.png': 'c', 'frame1.png': 'a'});
		const expected = sha256(FRAME_FOLDER_HASH_HEADER + `"frame1.png" ${sha256('a')}\n"frame2.png" ${sha256('b')}\n"frame10.png" ${sha256('c')}\n`);
		expect(await hashSourceContent(natural)).toBe(expected);
	});

	it('the folder hash differs from hashing the same bytes as a file', async () => {
		const single = folder('single', {'00000.png': 'frame zero'});
		copyFileSync(path.join(single, '00000.png'), path.join(root, 'frame.png'));
		expect(await hashSourceContent(single)).not.toBe(await hashSourceContent(path.join(root, 'frame.png')));
	});

	it('missing paths and empty folders are INVALID_INPUT errors', async () => {
		const missing = await hashSourceContent(path.join(root, 'nope.mp4')).catch((e: unknown) => e);
		expect(isFateZeroError(missing, 'INVALID_INPUT')).toBe(true);
		expect((missing as Error).message).toMatch(/nope\.mp4 does not exist/);
		const empty = await hashSourceContent(folder('empty', {})).catch((e: unknown) => e);
		expect(isFateZeroError(empty, 'INVALID_INPUT')).toBe(true);
		expect((empty as Error).message).toMatch(/has no \.png\/\.jpg\/\.jpeg files/);
	});
});
