import type {HostTensor} from '../runtime/host-tensor.js';

/**
 * What the diffusion code needs from an inference session: the worker-thread runtime's sessions
 * and in-thread ORT sessions both fit, so the pipeline does not care where inference runs.
 */
export type RunnableSession = {
	label: string;
	/** `fetches` limits which outputs are copied out of ORT (all when omitted). */
	run(feeds: Record<string, HostTensor>, options?: {fetches?: string[]; signal?: AbortSignal}): Promise<Record<string, HostTensor>>;
};
