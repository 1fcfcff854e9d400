import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import {afterAll, afterEach, describe, expect, it, vi} from 'vitest';
import {isFateZeroError} from '../../plugin/errors/index.js';
import {cgroupCpuLimit, createInferenceRuntime, defaultThreadCount, float32Tensor} from '../../plugin/runtime/index.js';
import {createOrtSession} from '../../plugin/runtime/ort-session.js';
import {matmulChain, smallGraph} from './tiny-graphs.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'fatezero-threads-'));
afterAll(() => rmSync(scratch, {recursive: true, force: true}));
afterEach(() => {
	vi.restoreAllMocks();
	vi.unstubAllEnvs();
});

/** A fake / tree: /proc/self/cgroup plus the given files under it. */
const fakeRoot = (name: string, procSelfCgroup: string, files: Record<string, string>): string => {
	const root = path.join(scratch, name);
	for (const [file, text] of Object.entries({'/proc/self/cgroup': procSelfCgroup, ...files})) {
		mkdirSync(path.dirname(path.join(root, file)), {recursive: true});
		writeFileSync(path.join(root, file), text);
	}
	return root;
};

/** What "the cores this process may use" is on this machine, computed here from its parts. */
const expectedCores = (): number => {
	const cores = os.availableParallelism();
	const limit = cgroupCpuLimit();
	return limit ? Math.min(cores, Math.max(1, Math.floor(limit.cores))) : cores;
};

describe('defaultThreadCount', () => {
	it('is availableParallelism without a cgroup quota', () => {
		const v2 = fakeRoot('v2-max', '0::/user.slice\n', {'/sys/fs/cgroup/user.slice/cpu.max': 'max 100000\n'});
		expect(defaultThreadCount({fsRoot: v2, env: {}, availableParallelism: 8})).toMatchObject({threads: 8, source: 'availableParallelism'});
		const none = fakeRoot('none', '0::/\n', {});
		expect(defaultThreadCount({fsRoot: none, env: {}, availableParallelism: 3})).toEqual({threads: 3, source: 'availableParallelism', describe: '3 (availableParallelism)'});
	});

	it('is lowered by a cgroup v2 cpu.max quota (rounded down, at least 1), also one set on an ancestor', () => {
		const v2 = fakeRoot('v2', '0::/kubepods/pod1/ctr\n', {
			'/sys/fs/cgroup/kubepods/pod1/ctr/cpu.max': 'max 100000\n',
			'/sys/fs/cgroup/kubepods/pod1/cpu.max': '250000 100000\n',
		});
		const count = defaultThreadCount({fsRoot: v2, env: {}, availableParallelism: 16});
		expect(count).toMatchObject({threads: 2, source: 'cgroup cpu.max'});
		expect(count.describe).toContain('250000 100000');
		const half = fakeRoot('v2-half', '0::/\n', {'/sys/fs/cgroup/cpu.max': '50000 100000\n'});
		expect(defaultThreadCount({fsRoot: half, env: {}, availableParallelism: 4}).threads).toBe(1);
		// a quota above the affinity mask changes nothing
		const wide = fakeRoot('v2-wide', '0::/\n', {'/sys/fs/cgroup/cpu.max': '800000 100000\n'});
		expect(defaultThreadCount({fsRoot: wide, env: {}, availableParallelism: 4})).toMatchObject({threads: 4, source: 'availableParallelism'});
	});

	it('is lowered by a cgroup v1 cfs quota, with the container path invisible from inside (the mount root is its cgroup)', () => {
		const v1 = fakeRoot('v1', '12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/\n', {
			'/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '300000\n',
			'/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000\n',
		});
		expect(defaultThreadCount({fsRoot: v1, env: {}, availableParallelism: 64})).toMatchObject({threads: 3, source: 'cgroup cpu.cfs_quota_us'});
		const unlimited = fakeRoot('v1-none', '1:cpu:/\n', {'/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1\n', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n'});
		expect(defaultThreadCount({fsRoot: unlimited, env: {}, availableParallelism: 2})).toMatchObject({threads: 2, source: 'availableParallelism'});
	});

	it('an explicit count wins, then FATEZERO_THREADS; invalid values throw INVALID_OPTION', () => {
		const v2 = fakeRoot('v2-override', '0::/\n', {'/sys/fs/cgroup/cpu.max': '100000 100000\n'});
		expect(defaultThreadCount({threads: 6, fsRoot: v2, env: {FATEZERO_THREADS: '3'}, availableParallelism: 8})).toMatchObject({threads: 6, source: 'option'});
		expect(defaultThreadCount({fsRoot: v2, env: {FATEZERO_THREADS: '3'}, availableParallelism: 8})).toMatchObject({threads: 3, source: 'FATEZERO_THREADS env'});
		expect(defaultThreadCount({fsRoot: v2, env: {FATEZERO_THREADS: ''}, availableParallelism: 8})).toMatchObject({threads: 1, source: 'cgroup cpu.max'});
		for (const bad of [{threads: 0}, {threads: 1.5}, {env: {FATEZERO_THREADS: 'all'}}, {env: {FATEZERO_THREADS: '-2'}}]) {
			const error = (() => {
				try {
					return defaultThreadCount({fsRoot: v2, availableParallelism: 8, env: {}, ...bad});
				} catch (e) {
					return e;
				}
			})();
			expect(isFateZeroError(error, 'INVALID_OPTION'), JSON.stringify(bad)).toBe(true);
		}
	});

	it('on this machine: between 1 and availableParallelism', () => {
		const count = defaultThreadCount({env: {}});
		console.info(`this machine: ${count.describe}`);
		expect(count.threads).toBe(expectedCores());
		expect(count.threads).toBeGreaterThanOrEqual(1);
		expect(count.threads).toBeLessThanOrEqual(os.availableParallelism());
	});
});

describe('sessions created without options', () => {
	it('an in-thread session hands ORT intraOpNumThreads = the core count (checked on the options ORT receives and in its profile)', async () => {
		vi.stubEnv('FATEZERO_THREADS', '');
		const dir = mkdtempSync(path.join(scratch, 'profile-'));
		const create = ort.InferenceSession.create.bind(ort.InferenceSession) as (bytes: Uint8Array, options: ort.InferenceSession.SessionOptions) => Promise<ort.InferenceSession>;
		const seen: ort.InferenceSession.SessionOptions[] = [];
		let created: ort.InferenceSession | undefined;
		vi.spyOn(ort.InferenceSession, 'create').mockImplementation((async (bytes: Uint8Array, options: ort.InferenceSession.SessionOptions) => {
			seen.push(options);
			created = await create(bytes, {...options, enableProfiling: true, profileFilePrefix: path.join(dir, 'p')});
			return created;
		}) as never);
		const session = await createOrtSession({label: 'chain', graph: matmulChain(4), externalData: []});
		try {
			expect(seen).toHaveLength(1);
			expect(seen[0].intraOpNumThreads).toBe(expectedCores());
			expect(session.threads.threads).toBe(expectedCores());
			await session.run({x: float32Tensor(new Float32Array(1024 * 1024).fill(1), [1024, 1024])});
			created!.endProfiling();
		} finally {
			await session.dispose();
		}
		// ORT's trace names the intra-op pool and the sub-threads that ran work: never more than threads − 1
		const trace = JSON.parse(readFileSync(path.join(dir, readdirSync(dir).find((f) => f.endsWith('.json'))!), 'utf8')) as {cat: string; args?: {thread_scheduling_stats?: unknown}}[];
		const stats = trace.filter((e) => e.cat === 'Node').map((e) => e.args?.thread_scheduling_stats);
		const subThreads = new Set(stats.flatMap((s) => (s && typeof s === 'object' ? Object.keys((s as {sub_threads?: object}).sub_threads ?? {}) : [])));
		expect(subThreads.size).toBeLessThanOrEqual(expectedCores() - 1);
		if (expectedCores() === 1) expect(stats.every((s) => s === '')).toBe(true);
		else expect(stats.some((s) => typeof s === 'object' && s !== null)).toBe(true);
	});

	it('a runtime created without options runs every session with the core count (as the worker handed it to ORT)', async () => {
		vi.stubEnv('FATEZERO_THREADS', '');
		const runtime = await createInferenceRuntime();
		try {
			expect(runtime.threads.threads).toBe(expectedCores());
			expect(['availableParallelism', 'cgroup cpu.max', 'cgroup cpu.cfs_quota_us']).toContain(runtime.threads.source);
			const session = await runtime.createSession({label: 'small', graph: smallGraph(), externalData: []});
			expect(session.threads).toEqual(runtime.threads);
		} finally {
			await runtime.dispose();
		}
	});

	it('the override still wins (RuntimeOptions.intraOpThreads, then FATEZERO_THREADS)', async () => {
		vi.stubEnv('FATEZERO_THREADS', '3');
		const fromEnv = await createInferenceRuntime();
		const explicit = await createInferenceRuntime({intraOpThreads: 1});
		try {
			expect((await fromEnv.createSession({label: 'small', graph: smallGraph(), externalData: []})).threads).toMatchObject({threads: 3, source: 'FATEZERO_THREADS env'});
			expect((await explicit.createSession({label: 'small', graph: smallGraph(), externalData: []})).threads).toMatchObject({threads: 1, source: 'option'});
		} finally {
			await Promise.all([fromEnv.dispose(), explicit.dispose()]);
		}
	});
});
