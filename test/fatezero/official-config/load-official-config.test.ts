import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {parse as parseYaml} from 'yaml';
import {afterAll, describe, expect, it} from 'vitest';
import {isFateZeroError} from '../../../plugin/errors/fatezero-error.js';
import {loadOfficialConfig} from '../../../plugin/fatezero/official-config/index.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const root = mkdtempSync(path.join(os.tmpdir(), 'fatezero-config-'));
afterAll(() => rmSync(root, {recursive: true, force: true}));

const failure = (run: () => unknown): Error => {
	try {
		run();
	} catch (error) {
		expect(isFateZeroError(error, 'INVALID_OPTION'), String(error)).toBe(true);
		return error as Error;
	}
	throw new Error('expected loadOfficialConfig to throw');
};

describe('loadOfficialConfig', () => {
	it('reads YAML and JSON files of the same structure and returns the file', () => {
		const yamlFile = path.join(fixtures, 'jeep_posche.yaml');
		const jsonFile = path.join(root, 'jeep_posche.json');
		writeFileSync(jsonFile, JSON.stringify(parseYaml(readFileSync(yamlFile, 'utf8'))));
		const fromYaml = loadOfficialConfig(yamlFile);
		const fromJson = loadOfficialConfig(jsonFile);
		expect(fromYaml.file).toBe(yamlFile);
		expect(fromJson.file).toBe(jsonFile);
		expect(fromJson.edits).toEqual(fromYaml.edits);
		expect(fromJson.warnings).toEqual(fromYaml.warnings);
	});

	it('a missing file or a folder is a clear option error', () => {
		expect(failure(() => loadOfficialConfig(path.join(root, 'nope.yaml'))).message).toMatch(/^Config file .*nope\.yaml does not exist\. Pass the path of an official FateZero config \(YAML or JSON\)/);
		mkdirSync(path.join(root, 'folder.yaml'));
		expect(failure(() => loadOfficialConfig(path.join(root, 'folder.yaml'))).message).toMatch(/folder\.yaml is not a file/);
	});

	it('errors name the file, then the key path; syntax errors the line and column', () => {
		const bad = path.join(root, 'bad.yaml');
		writeFileSync(bad, readFileSync(path.join(fixtures, 'jeep_posche.yaml'), 'utf8').replace('blend_th: [0.3, 0.3]\n\n    clip_length', 'blend_th: [.nan, 0.3]\n\n    clip_length'));
		expect(failure(() => loadOfficialConfig(bad)).message).toMatch(new RegExp(`^${bad.replaceAll('.', '\\.')}: editing_config\\.p2p_config\\[1\\]\\.blend_th\\[0\\] is NaN`));
		const broken = path.join(root, 'broken.yaml');
		writeFileSync(broken, 'dataset_config:\n  prompt: "a jeep\n');
		expect(failure(() => loadOfficialConfig(broken)).message).toMatch(new RegExp(`^${broken.replaceAll('.', '\\.')}: YAML syntax error at line \\d+, column \\d+`));
	});
});
