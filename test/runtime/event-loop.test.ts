import {expect, it} from 'vitest';
import {createInferenceRuntime, float32Tensor} from '../../plugin/runtime/index.js';
import {createOrtSession} from '../../plugin/runtime/ort-session.js';
import {matmulChain, ticksDuring} from './tiny-graphs.js';

// 24 MatMuls of 1024³ on one thread: ~0.6 s on the 2-core dev machine (~95 GFLOP/s per core).
const CHAIN = 24;
const ones = () => float32Tensor(new Float32Array(1024 * 1024).fill(1), [1024, 1024]);

it('keeps the event loop live during a long run in the worker (and the in-thread run would not)', async () => {
	const graph = matmulChain(CHAIN);
	// Control: in this thread, session.run blocks the event loop for the whole run.
	const inThread = await createOrtSession({label: 'chain', graph, externalData: []}, {intraOpThreads: 1});
	await inThread.run({x: ones()}); // warm-up: the first runs are slower (arena growth)
	const blocked = await ticksDuring(() => inThread.run({x: ones()}));
	await inThread.dispose();

	const runtime = await createInferenceRuntime({intraOpThreads: 1});
	try {
		const session = await runtime.createSession({label: 'chain', graph, externalData: []});
		await session.run({x: ones()});
		const live = await ticksDuring(() => session.run({x: ones()}));
		expect(live.ms).toBeGreaterThan(300);
		expect(live.value.y.data[0]).toBeCloseTo(1, 4);
		// 10 ms ticks: a live loop gets most of ms/10; allow for a loaded machine.
		expect(live.ticks).toBeGreaterThanOrEqual(Math.floor((live.ms / 10) * 0.5));
		expect(blocked.ticks).toBeLessThanOrEqual(2);
		console.info(`worker: ${live.ticks} ticks in ${live.ms.toFixed(0)} ms; in-thread: ${blocked.ticks} ticks in ${blocked.ms.toFixed(0)} ms`);
	} finally {
		await runtime.dispose();
	}
});
