import {describe, expect, it} from 'vitest';
import {chooseAttentionSource} from '../../plugin/fatezero/choose-attention-source.js';
import {estimateStoredAttentionBytes} from '../../plugin/fatezero/estimate-memory.js';
import {planFusion} from '../../plugin/fatezero/fusion-plan.js';
import {chooseChunkSize, type EngineMemoryShape} from '../../plugin/fatezero/run-fatezero.js';
import {FateZeroError} from '../../plugin/errors/fatezero-error.js';
import {RANDOM_MODEL_CONFIGS} from '../../plugin/model/random-model-architectures.js';
import {parseUnetConfig} from '../../plugin/model/parse-unet-config.js';

// the real SD-1.5 UNet shapes; no weights are needed to plan memory
const sd15 = parseUnetConfig(RANDOM_MODEL_CONFIGS.sd15.unet, 'unet/config.json').config;
const MB = 2 ** 20;

const engineAt = (size: number, attentionSource: 'recompute' | 'stored', storagePrecision: 'float16' | 'float32' = 'float16'): EngineMemoryShape => ({
	plan: planFusion(sd15, size / 8, size / 8),
	attentionSource,
	sizeInPixels: size,
	latentSize: size / 8,
	maxAttentionMapElementsPerFrame: 2 ** 21,
	storagePrecision,
	leastScChannel: 640,
	model: {unet: {config: sd15}},
});

describe('stored attention memory', () => {
	it("matches the bytes the benchmark measured: 132.1875 MB per step at 256² × 8 frames, fp16, ['mid']", () => {
		const perStep = estimateStoredAttentionBytes({plan: planFusion(sd15, 32, 32), batchFrames: 8, steps: 1, references: 1, leastScChannel: 640, storagePrecision: 'float16'});
		expect(perStep / MB).toBe(132.1875);
		// twice at float32; keys twice as long in the ≥ 640-channel levels with two references
		expect(estimateStoredAttentionBytes({plan: planFusion(sd15, 32, 32), batchFrames: 8, steps: 1, references: 1, leastScChannel: 640, storagePrecision: 'float32'})).toBe(2 * perStep);
		const twoRefs = estimateStoredAttentionBytes({plan: planFusion(sd15, 32, 32), batchFrames: 8, steps: 1, references: 2, leastScChannel: 640, storagePrecision: 'float16'});
		// 640 ch: 5 self layers × 256 tokens × 640; 1280 ch: 5 × 64 × 1280 + mid 16 × 1280 — one more key set each, × 8 frames × 2 bytes
		expect(twoRefs - perStep).toBe((5 * 256 * 640 + 5 * 64 * 1280 + 16 * 1280) * 8 * 2);
	});

	it('counts in the chunk-size choice: a budget that holds recompute mode refuses stored mode for 50 steps, naming the way out', () => {
		const request = {frameCount: 8, editCount: 1, steps: 50, attention: ['mid' as const], chunkSizeInFrames: null};
		const budget = 4000 * MB; // 50 steps × 132 MB = 6.6 GB of queries/keys at 256²
		expect(chooseChunkSize({...request, engine: engineAt(256, 'recompute')}, budget)).toBe(8);
		let error: unknown;
		try {
			chooseChunkSize({...request, engine: engineAt(256, 'stored')}, budget);
		} catch (caught) {
			error = caught;
		}
		expect(error).toBeInstanceOf(FateZeroError);
		expect((error as FateZeroError).code).toBe('INVALID_OPTION');
		expect((error as FateZeroError).message).toMatch(/about 66\d\d MB for 50 steps.*attentionSource 'recompute'/);
		// few steps fit
		expect(chooseChunkSize({...request, steps: 5, engine: engineAt(256, 'stored')}, budget)).toBe(8);
	});
});

describe('chooseAttentionSource', () => {
	const request = {unetConfig: sd15, sizeInPixels: 256, frameCount: 8, editCount: 1, attention: ['mid' as const]};

	it('keeps the source attention when it fits the budget and recomputes it when not', () => {
		const roomy = chooseAttentionSource({...request, steps: 50, memoryBudgetInMegabytes: 12000});
		expect(roomy).toMatchObject({attentionSource: 'stored', chunkSizeInFrames: 8});
		const tight = chooseAttentionSource({...request, steps: 50, memoryBudgetInMegabytes: 4000});
		expect(tight).toMatchObject({attentionSource: 'recompute', chunkSizeInFrames: 8});
		expect(tight.reason).toMatch(/exceed the memory budget \(4000 MB\)/);
		// float32 storage doubles what is kept: the same budget no longer holds it
		expect(chooseAttentionSource({...request, steps: 50, memoryBudgetInMegabytes: 12000, storagePrecision: 'float32'}).attentionSource).toBe('recompute');
	});

	it('prefers the one-batch recompute mode over stored mode in smaller chunks, and fails only when nothing fits', () => {
		// 2 steps: the editing step dominates. ~665 MB for recompute's whole-clip batch, ~760 MB for stored's
		expect(chooseAttentionSource({...request, steps: 2, memoryBudgetInMegabytes: 700})).toMatchObject({attentionSource: 'recompute', chunkSizeInFrames: 8});
		expect(chooseAttentionSource({...request, steps: 2, memoryBudgetInMegabytes: 800})).toMatchObject({attentionSource: 'stored', chunkSizeInFrames: 8});
		expect(() => chooseAttentionSource({...request, steps: 50, memoryBudgetInMegabytes: 1})).toThrow(/memoryBudgetInMegabytes is 1\b/);
	});
});
