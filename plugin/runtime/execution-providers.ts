import {FateZeroError} from '../errors/fatezero-error.js';
import {providerUnavailableError} from './provider-diagnosis.js';
import {probeInChildProcess, type ProviderProbe} from './provider-probe-child.js';
import type {ExecutionProviderName} from './session-spec.js';

export type {ProviderProbe} from './provider-probe-child.js';

/** The providers the plugin can ask ORT for, in order of preference for docs and probes. */
export const EXECUTION_PROVIDERS: readonly ExecutionProviderName[] = ['cpu', 'cuda', 'webgpu'];

export const DEFAULT_EXECUTION_PROVIDER: ExecutionProviderName = 'cpu';

/** Validates a user-supplied provider name (from options, CLI flags or JSON). */
export const parseExecutionProvider = (value: unknown, option = 'executionProvider'): ExecutionProviderName => {
	if (value === undefined) return DEFAULT_EXECUTION_PROVIDER;
	if (typeof value === 'string' && (EXECUTION_PROVIDERS as readonly string[]).includes(value)) {
		return value as ExecutionProviderName;
	}
	throw new FateZeroError(
		'PROVIDER_UNKNOWN',
		`${option}: ${JSON.stringify(value)} is not an execution provider. Use one of ${EXECUTION_PROVIDERS.map((p) => `'${p}'`).join(', ')} (default '${DEFAULT_EXECUTION_PROVIDER}').`,
	);
};

// Per thread (each worker has its own module instance); the runtime client hands its main-thread
// result to the worker with rememberProviderProbe so a process probes each provider once.
const probes = new Map<ExecutionProviderName, Promise<ProviderProbe>>();

/**
 * Whether `provider` binds here. Runs a one-node graph with that provider only, in a child
 * process (≈0.2 s on CPU, longer for CUDA initialisation); the result is cached.
 */
export const probeExecutionProvider = (provider: ExecutionProviderName): Promise<ProviderProbe> => {
	let name: ExecutionProviderName;
	try {
		name = parseExecutionProvider(provider);
	} catch (error) {
		return Promise.reject(error);
	}
	let probe = probes.get(name);
	if (!probe) {
		probe = probeInChildProcess(name);
		probes.set(name, probe);
	}
	return probe;
};

/** Probes every provider (in parallel) and reports, for each, whether it can bind and why not. */
export const probeExecutionProviders = (): Promise<ProviderProbe[]> => Promise.all(EXECUTION_PROVIDERS.map(probeExecutionProvider));

/** Seeds the cache with a probe made elsewhere in this process (the runtime's main thread). */
export const rememberProviderProbe = (probe: ProviderProbe): void => {
	if (!probes.has(probe.provider)) probes.set(probe.provider, Promise.resolve(probe));
};

/**
 * Throws PROVIDER_UNAVAILABLE unless `provider` binds. CPU is not probed: it is built into the
 * ORT library, so if ORT loads at all, CPU binds.
 */
export const requireExecutionProvider = async (provider: ExecutionProviderName): Promise<ProviderProbe> => {
	if (provider === 'cpu') return {provider, available: true, boundTo: 'CPUExecutionProvider'};
	const probe = await probeExecutionProvider(provider);
	if (!probe.available) {
		throw providerUnavailableError({
			provider,
			reason: probe.reason ?? 'unknown reason',
			missingLibrary: probe.missingLibrary,
			fix: probe.fix ?? '',
		});
	}
	return probe;
};
