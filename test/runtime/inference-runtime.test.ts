import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {isFateZeroError} from '../../plugin/errors/fatezero-error.js';
import {createInferenceRuntime, float32Tensor, int64Tensor, type HostTensor, type InferenceRuntime} from '../../plugin/runtime/index.js';
import {simulateWorkerCrash} from '../../plugin/runtime/inference-runtime.js';
import {createOrtSession} from '../../plugin/runtime/ort-session.js';
import {matmulChain, seeded, smallGraph} from './tiny-graphs.js';

const spec = (label = 'small') => ({label, graph: smallGraph(), externalData: []});
const feeds = (): Record<string, HostTensor> => ({x: float32Tensor(seeded(32, 5), [2, 16]), steps: int64Tensor([3], [1])});
const ones = () => float32Tensor(new Float32Array(1024 * 1024).fill(1), [1024, 1024]);
const codeOf = (error: unknown) => (isFateZeroError(error) ? error.code : `not a FateZeroError: ${String(error)}`);

describe('inference runtime', () => {
	let runtime: InferenceRuntime;
	beforeAll(async () => {
		runtime = await createInferenceRuntime({intraOpThreads: 1});
	});
	afterAll(() => runtime.dispose());

	it('gives the same numbers as an in-thread session, float32 and int64 alike', async () => {
		const inThread = await createOrtSession(spec(), {intraOpThreads: 1});
		const expected = await inThread.run(feeds());
		await inThread.dispose();
		const session = await runtime.createSession(spec());
		expect(session).toMatchObject({label: 'small', provider: 'cpu', inputNames: ['x', 'steps'], outputNames: ['probs', 'scaled', 'best']});
		const actual = await session.run(feeds());
		for (const name of session.outputNames) {
			expect(actual[name].type).toBe(expected[name].type);
			expect(actual[name].dims).toEqual(expected[name].dims);
			expect(Array.from(actual[name].data as ArrayLike<number | bigint>)).toEqual(Array.from(expected[name].data as ArrayLike<number | bigint>));
		}
		expect((await session.run(feeds(), {fetches: ['best']})).best.type).toBe('int64');
		expect(Object.keys(await session.run(feeds(), {fetches: ['scaled']}))).toEqual(['scaled']);
		await session.dispose();
	});

	it('copies feeds by default and moves them with transferFeeds', async () => {
		const session = await runtime.createSession(spec());
		const mine = feeds();
		await session.run(mine);
		expect(mine.x.data.length).toBe(32);
		const moved = feeds();
		const out = await session.run(moved, {transferFeeds: true});
		expect(moved.x.data.length).toBe(0); // detached: the buffer now belongs to the worker
		expect(out.probs.data.length).toBe(16);
		await session.dispose();
	});

	it('rejects wrong, missing or mistyped feeds and unknown fetches with INVALID_INPUT', async () => {
		const session = await runtime.createSession(spec('checked'));
		const {x, steps} = feeds();
		const typo = await session.run({x, stepz: steps}).catch((e: unknown) => e);
		expect(codeOf(typo)).toBe('INVALID_INPUT');
		expect((typo as Error).message).toBe('The checked session got the wrong inputs: missing [steps], unknown [stepz]. It takes [x, steps].');
		expect(codeOf(await session.run({x}).catch((e: unknown) => e))).toBe('INVALID_INPUT');
		const int32 = await session.run({x, steps: {type: 'int32', dims: [1], data: new Int32Array([3])}}).catch((e: unknown) => e);
		expect((int32 as Error).message).toMatch(/Input steps of the checked session is int64, but it was fed int32\[1\]/);
		const shape = await session.run({x: float32Tensor(seeded(16, 1), [1, 16]), steps}).catch((e: unknown) => e);
		expect((shape as Error).message).toMatch(/has shape \[2, 16\], but it was fed float32\[1, 16\]/);
		expect(codeOf(await session.run(feeds(), {fetches: ['prob']}).catch((e: unknown) => e))).toBe('INVALID_INPUT');
		await session.dispose();
	});

	it('rejects runs of a disposed session with SESSION_DISPOSED', async () => {
		const session = await runtime.createSession(spec('gone'));
		await session.dispose();
		const error = await session.run(feeds()).catch((e: unknown) => e);
		expect(codeOf(error)).toBe('SESSION_DISPOSED');
		expect((error as Error).message).toContain('"gone"');
	});

	it('rejects an aborted run with ABORTED, before start and while waiting in the queue', async () => {
		const session = await runtime.createSession(spec('abortable'));
		const controller = new AbortController();
		controller.abort();
		expect(codeOf(await session.run(feeds(), {signal: controller.signal}).catch((e: unknown) => e))).toBe('ABORTED');
		const chain = await runtime.createSession({label: 'chain', graph: matmulChain(4), externalData: []});
		const busy = chain.run({x: ones()});
		const later = new AbortController();
		const queued = session.run(feeds(), {signal: later.signal}).catch((e: unknown) => e);
		later.abort();
		expect(codeOf(await queued)).toBe('ABORTED');
		expect((await busy).y.data[0]).toBeCloseTo(1, 5);
		expect((await session.run(feeds())).probs.dims).toEqual([2, 8]);
		await Promise.all([session.dispose(), chain.dispose()]);
	});

	it('getOrCreateSession creates once for concurrent callers and does not cache failures', async () => {
		let made = 0;
		const make = () => {
			made++;
			return spec('shared');
		};
		const [a, b] = await Promise.all([runtime.getOrCreateSession('shared', make), runtime.getOrCreateSession('shared', make)]);
		expect(a).toBe(b);
		expect(made).toBe(1);
		await a.dispose();
		const c = await runtime.getOrCreateSession('shared', make);
		expect(c).not.toBe(a);
		expect(made).toBe(2);
		const broken = () => ({label: 'broken', graph: new Uint8Array([1, 2, 3]), externalData: []});
		const failed = await runtime.getOrCreateSession('broken', broken).catch((e: unknown) => e);
		expect(codeOf(failed)).toBe('INFERENCE_FAILED');
		expect((failed as Error).message).toContain('Could not create the broken session on cpu');
		expect(codeOf(await runtime.getOrCreateSession('broken', broken).catch((e: unknown) => e))).toBe('INFERENCE_FAILED');
		await c.dispose();
	});
});

describe('runtime lifetime', () => {
	it('dispose rejects the running and the queued runs, then ends the worker', async () => {
		const runtime = await createInferenceRuntime({intraOpThreads: 1});
		const chain = await runtime.createSession({label: 'chain', graph: matmulChain(8), externalData: []});
		const small = await runtime.createSession(spec());
		const running = chain.run({x: ones()}).catch((e: unknown) => e);
		const waiting = small.run(feeds()).catch((e: unknown) => e);
		await new Promise((resolve) => setTimeout(resolve, 20));
		const disposing = runtime.dispose();
		const [r, w] = await Promise.all([running, waiting]);
		expect(codeOf(r)).toBe('SESSION_DISPOSED');
		expect((r as Error).message).toMatch(/disposed while the run of the "chain" session was running/);
		expect(codeOf(w)).toBe('SESSION_DISPOSED');
		expect((w as Error).message).toMatch(/disposed while the run of the "small" session was waiting/);
		await disposing;
		expect(codeOf(await small.run(feeds()).catch((e: unknown) => e))).toBe('SESSION_DISPOSED');
		expect(codeOf(await runtime.createSession(spec()).catch((e: unknown) => e))).toBe('SESSION_DISPOSED');
		await runtime.dispose(); // idempotent
	});

	it('a crashed worker rejects pending calls with INFERENCE_FAILED naming what was running', async () => {
		const runtime = await createInferenceRuntime();
		const session = await runtime.createSession(spec('victim'));
		const crash = simulateWorkerCrash(runtime).catch((e: unknown) => e);
		const queued = session.run(feeds()).catch((e: unknown) => e);
		const [c, q] = await Promise.all([crash, queued]);
		expect(codeOf(c)).toBe('INFERENCE_FAILED');
		expect((c as Error).message).toMatch(/The inference worker stopped \(exit code 70\) while running a simulated crash/);
		expect(codeOf(q)).toBe('INFERENCE_FAILED');
		expect((q as Error).message).toMatch(/before the run of the "victim" session could start/);
		expect(codeOf(await session.run(feeds()).catch((e: unknown) => e))).toBe('INFERENCE_FAILED');
		await runtime.dispose();
	});
});
