import {existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {bundleProject} from '../../plugin/node/bundle-project.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'fatezero-bundle-'));
afterAll(() => rmSync(root, {recursive: true, force: true}));

describe('bundleProject', () => {
	it('links a cache dir that does not exist yet as the public dir, so clips published after bundling are served', async () => {
		const cacheDir = path.join(root, 'fresh-cache');
		expect(existsSync(cacheDir)).toBe(false);
		const serveUrl = await bundleProject('remotion/index.ts', cacheDir);
		expect(existsSync(cacheDir)).toBe(true);
		// the bundle's public folder is the cache itself (a link, not a copy)
		const publicEntry = readdirSync(serveUrl).find((name) => name === 'public');
		expect(publicEntry).toBe('public');
		expect(lstatSync(path.join(serveUrl, 'public')).isSymbolicLink()).toBe(true);
		writeFileSync(path.join(cacheDir, 'published-later.json'), '{"ok":true}');
		expect(readFileSync(path.join(serveUrl, 'public', 'published-later.json'), 'utf8')).toBe('{"ok":true}');
		rmSync(serveUrl, {recursive: true, force: true});
	});
});
