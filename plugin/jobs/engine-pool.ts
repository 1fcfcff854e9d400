import type {ComputeType} from '../project/project-settings.js';
import {loadFateZero, type FateZeroEngine, type LoadFateZeroOptions} from '../fatezero/load-fatezero.js';
import type {FusionMode} from '../fatezero/fusion-io.js';
import type {ExecutionProviderName} from '../runtime/session-spec.js';

/** What every engine of a pool shares and the content keys must name (the clip job reads it). */
export type EnginePoolSettings = {
	executionProvider: ExecutionProviderName;
	computeType: ComputeType;
	// Jobs always invert in recompute mode: their inversions are cached on disk, and only recompute
	// mode needs nothing beyond latents and mask maps (so the storage precision never applies).
	attentionSource: FusionMode;
};

/**
 * Loaded engines shared by the jobs of one process: a model's sessions hold its weights (GBs),
 * so jobs that need the same (model, size, attention levels, provider) reuse one engine, loaded on
 * first use. dispose() releases them all.
 */
export class EnginePool {
	private readonly engines = new Map<string, Promise<FateZeroEngine>>();
	readonly settings: EnginePoolSettings;

	constructor(private readonly base: Pick<LoadFateZeroOptions, 'cacheDir' | 'executionProvider' | 'computeType' | 'intraOpThreads'>) {
		this.settings = {executionProvider: base.executionProvider ?? 'cpu', computeType: base.computeType ?? 'float32', attentionSource: 'recompute'};
	}

	/** The engine for these options; `onLoadProgress` sees the load's steps when this call starts the load. */
	get(options: Pick<LoadFateZeroOptions, 'modelDir' | 'sizeInPixels' | 'leastScChannel'>, onLoadProgress?: LoadFateZeroOptions['onProgress']): Promise<FateZeroEngine> {
		const key = JSON.stringify([options.modelDir, options.sizeInPixels, options.leastScChannel]);
		let engine = this.engines.get(key);
		if (!engine) {
			// The load is shared: a caller whose progress callback throws (its job was cancelled
			// meanwhile) must not fail the load for the jobs that joined it; that job stops at its next step.
			const onProgress: LoadFateZeroOptions['onProgress'] = onLoadProgress
				? (event) => {
						try {
							onLoadProgress(event);
						} catch {
							// the caller's own cancellation; the load goes on
						}
					}
				: undefined;
			engine = loadFateZero({...this.base, ...options, attentionSource: this.settings.attentionSource, onProgress});
			engine.catch(() => this.engines.delete(key));
			this.engines.set(key, engine);
		}
		return engine;
	}

	async dispose(): Promise<void> {
		const engines = [...this.engines.values()];
		this.engines.clear();
		await Promise.all(engines.map(async (engine) => (await engine.catch(() => null))?.dispose()));
	}
}
