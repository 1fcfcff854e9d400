import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {splitCliArgs} from '../../plugin/cli/split-cli-args.js';
import {isFateZeroError} from '../../plugin/errors/fatezero-error.js';
import {describeSettings, GENERATED_TINY_MODEL, resolveProjectSettings} from '../../plugin/project/project-settings.js';
import {resolveModel} from '../../plugin/project/resolve-model.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'fatezero-settings-'));
afterAll(() => rmSync(root, {recursive: true, force: true}));

const project = (name: string, config?: unknown): string => {
	const dir = path.join(root, name);
	mkdirSync(dir, {recursive: true});
	if (config !== undefined) writeFileSync(path.join(dir, 'fatezero.config.json'), typeof config === 'string' ? config : JSON.stringify(config));
	return dir;
};

describe('resolveProjectSettings', () => {
	it('takes each value from flag > env > fatezero.config.json > default, and says where it came from', () => {
		const dir = project('precedence', {model: 'models/sd15', executionProvider: 'cuda', computeType: 'float16', cacheDir: 'store', threads: 3});
		const fileOnly = resolveProjectSettings({projectRoot: dir, env: {}, cwd: root});
		expect(fileOnly.model).toEqual({value: path.join(dir, 'models/sd15'), source: 'file', origin: path.join(dir, 'fatezero.config.json')});
		expect(fileOnly.executionProvider.value).toBe('cuda');
		expect(fileOnly.computeType.value).toBe('float16');
		expect(fileOnly.cacheDir.value).toBe(path.join(dir, 'store'));
		expect(fileOnly.threads.value).toBe(3);
		expect(fileOnly.publicDir).toEqual({value: null, source: 'default', origin: 'default'});

		const env = {FATEZERO_MODEL: '/env/model', FATEZERO_EXECUTION_PROVIDER: 'webgpu', FATEZERO_CACHE_DIR: 'env-cache'};
		const withEnv = resolveProjectSettings({projectRoot: dir, env, cwd: root});
		expect(withEnv.model).toMatchObject({value: '/env/model', source: 'env', origin: 'FATEZERO_MODEL'});
		expect(withEnv.executionProvider.value).toBe('webgpu');
		// relative paths of variables and flags resolve against the working directory
		expect(withEnv.cacheDir.value).toBe(path.join(root, 'env-cache'));
		expect(withEnv.computeType.source).toBe('file');

		const withFlags = resolveProjectSettings({projectRoot: dir, env, cwd: root, flags: {model: GENERATED_TINY_MODEL, executionProvider: 'cpu'}});
		expect(withFlags.model).toMatchObject({value: GENERATED_TINY_MODEL, source: 'flag', origin: '--model'});
		expect(withFlags.executionProvider).toMatchObject({value: 'cpu', source: 'flag'});
		expect(describeSettings({model: withFlags.model, computeType: withFlags.computeType}).join('\n')).toMatch(/model\s+generated:tiny\s+\(from --model\)\n\s+computeType\s+float16\s+\(from fatezero\.config\.json\)/);
	});

	it('defaults: no model, cpu, float32, <root>/cache, Remotion\'s public dir, every core', () => {
		const settings = resolveProjectSettings({projectRoot: project('defaults'), env: {}});
		expect(settings.model.value).toBeNull();
		expect([settings.executionProvider.value, settings.computeType.value, settings.threads.value, settings.frameBaseUrl.value]).toEqual(['cpu', 'float32', null, null]);
		expect(settings.cacheDir.value).toBe(path.join(root, 'defaults', 'cache'));
		expect(settings.configFile).toBeNull();
	});

	it('refuses bad values and bad config files with the key, the value and what to do', () => {
		const dir = project('bad');
		const reject = (run: () => unknown, pattern: RegExp) => {
			try {
				run();
			} catch (error) {
				expect(isFateZeroError(error, 'INVALID_OPTION'), String(error)).toBe(true);
				expect((error as Error).message).toMatch(pattern);
				return;
			}
			throw new Error('expected an error');
		};
		reject(() => resolveProjectSettings({projectRoot: dir, env: {FATEZERO_EXECUTION_PROVIDER: 'tpu'}}), /FATEZERO_EXECUTION_PROVIDER \(executionProvider\) is "tpu"; use one of cpu, cuda, webgpu/);
		reject(() => resolveProjectSettings({projectRoot: dir, env: {}, flags: {threads: '0'}}), /--threads \(threads\) is "0"; use a whole number ≥ 1/);
		reject(() => resolveProjectSettings({projectRoot: dir, env: {}, flags: {frameBaseUrl: 'cdn/frames'}}), /not an absolute URL/);
		reject(() => resolveProjectSettings({projectRoot: project('typo', {modle: '/m'}), env: {}}), /fatezero\.config\.json is invalid:[\s\S]*modle[\s\S]*Known keys: model, executionProvider/);
		reject(() => resolveProjectSettings({projectRoot: project('json', '{"model": '), env: {}}), /fatezero\.config\.json is not valid JSON/);
		reject(() => resolveProjectSettings({projectRoot: project('type', {computeType: 'int8'}), env: {}}), /computeType/);
		expect(resolveProjectSettings({projectRoot: dir, env: {}, flags: {frameBaseUrl: 'https://cdn.example.com/fz/'}}).frameBaseUrl.value).toBe('https://cdn.example.com/fz');
	});
});

describe('resolveModel', () => {
	it('with nothing configured is MODEL_NOT_CONFIGURED, naming the flag, the variable and the file', async () => {
		const error = await resolveModel({value: null, origin: 'default'}, path.join(root, 'cache')).catch((e: unknown) => e as Error);
		expect(isFateZeroError(error, 'MODEL_NOT_CONFIGURED')).toBe(true);
		expect((error as Error).message).toMatch(/--model DIR[\s\S]*FATEZERO_MODEL=DIR[\s\S]*fatezero\.config\.json[\s\S]*generated:tiny/);
	});
});

describe('splitCliArgs', () => {
	it('keeps its own flags, passes the rest (values included) through, and shares the ones both sides read', () => {
		const own = {model: {type: 'string'}, props: {type: 'string'}, json: {type: 'boolean'}} as const;
		const split = splitCliArgs(['src/index.ts', 'Comp', 'out.mp4', '--crf', '18', '--muted', '--model', 'm', '--props={"a":1}', '--concurrency=50%', '--json', '--scale', '2'], own, {booleanFlags: new Set(['muted']), shared: ['props']});
		expect(split.positionals).toEqual(['src/index.ts', 'Comp', 'out.mp4']);
		expect(split.own).toEqual(['--model', 'm', '--props={"a":1}', '--json']);
		expect(split.passThrough).toEqual(['--crf', '18', '--muted', '--props={"a":1}', '--concurrency=50%', '--scale', '2']);
	});
});
