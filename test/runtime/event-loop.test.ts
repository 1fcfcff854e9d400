import {expect, it} from 'vitest';
import {createInferenceRuntime, float32Tensor} from '../../plugin/runtime/index.js';
import {createOrtSession} from '../../plugin/runtime/ort-session.js';
import {matmulChain, ticksDuring} from './tiny-graphs.js';

/**
 * The run must last long enough for many 10 ms ticks. Machines differ by several times in speed
 * (a 1024³ MatMul on one thread: ~25 ms on the 2-core dev machine, less with AVX-512), so the
 * chain is sized here: it grows until one blocking run in this thread takes TARGET_MS, and the
 * assertions compare tick counts with the durations measured in this same run.
 */
const TARGET_MS = 400;
const MAX_CHAIN = 1024;
const ones = () => float32Tensor(new Float32Array(1024 * 1024).fill(1), [1024, 1024]);

/** The shortest chain (doubling from 4) whose in-thread run lasts TARGET_MS, with that blocking run's ticks. */
const sizedChain = async () => {
	for (let count = 4; ; ) {
		const graph = matmulChain(count);
		const inThread = await createOrtSession({label: 'chain', graph, externalData: []}, {intraOpThreads: 1});
		try {
			await inThread.run({x: ones()}); // warm-up: the first runs are slower (arena growth)
			// Control: in this thread, session.run blocks the event loop for the whole run.
			const blocked = await ticksDuring(() => inThread.run({x: ones()}));
			if (blocked.ms >= TARGET_MS) return {count, graph, blocked};
			if (count >= MAX_CHAIN) throw new Error(`${count} MatMuls of 1024³ took only ${blocked.ms.toFixed(0)} ms; raise MAX_CHAIN`);
			// aim 30 % past the target so one more try is usually enough; at least double
			count = Math.min(MAX_CHAIN, Math.max(2 * count, Math.ceil((count * TARGET_MS * 1.3) / Math.max(blocked.ms, 1))));
		} finally {
			await inThread.dispose();
		}
	}
};

it('keeps the event loop live during a long run in the worker (and the in-thread run would not)', async () => {
	const {count, graph, blocked} = await sizedChain();
	const runtime = await createInferenceRuntime({intraOpThreads: 1});
	try {
		const session = await runtime.createSession({label: 'chain', graph, externalData: []});
		await session.run({x: ones()});
		const live = await ticksDuring(() => session.run({x: ones()}));
		console.info(`${count} MatMuls: worker ${live.ticks} ticks in ${live.ms.toFixed(0)} ms; in-thread ${blocked.ticks} ticks in ${blocked.ms.toFixed(0)} ms`);
		expect(live.value.y.data[0]).toBeCloseTo(1, 4);
		// The blocked run lasted ≥ TARGET_MS (≥ 40 tick periods) and let at most the ticks at its edges through.
		expect(blocked.ticks).toBeLessThanOrEqual(2);
		// 10 ms ticks: a live loop gets most of ms/10; half allows for a loaded machine. The same
		// work in the worker lasts about as long as the blocked run, so that is ≥ 10 ticks.
		expect(live.ticks).toBeGreaterThanOrEqual(Math.max(10, Math.floor((live.ms / 10) * 0.5)));
	} finally {
		await runtime.dispose();
	}
});
