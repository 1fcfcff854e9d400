import {existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {bundleProject} from '../../plugin/node/bundle-project.js';
import {demoProject, testSettings} from './remotion-test-helpers.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'fatezero-bundle-'));
afterAll(() => rmSync(root, {recursive: true, force: true}));

describe('bundleProject', () => {
	it('links the project public dir (not a copy), so clips published into its fatezero/ folder after bundling are served', async () => {
		const project = await demoProject(testSettings(root));
		expect(project.publicDir.value).toBe(path.join(root, 'public'));
		mkdirSync(project.publicDir.value, {recursive: true});
		writeFileSync(path.join(project.publicDir.value, 'logo.txt'), 'the user\'s own asset');
		const serveUrl = await bundleProject('remotion/index.ts', project);
		expect(lstatSync(path.join(serveUrl, 'public')).isSymbolicLink()).toBe(true);
		expect(readFileSync(path.join(serveUrl, 'public', 'logo.txt'), 'utf8')).toBe('the user\'s own asset');
		mkdirSync(path.join(project.publicDir.value, 'fatezero'), {recursive: true});
		writeFileSync(path.join(project.publicDir.value, 'fatezero', 'published-later.json'), '{"ok":true}');
		expect(readFileSync(path.join(serveUrl, 'public', 'fatezero', 'published-later.json'), 'utf8')).toBe('{"ok":true}');
		rmSync(serveUrl, {recursive: true, force: true});
		expect(existsSync(path.join(project.publicDir.value, 'logo.txt'))).toBe(true);
	});
});
