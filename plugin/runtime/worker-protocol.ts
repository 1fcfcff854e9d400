import {FateZeroError, type FateZeroErrorCode} from '../errors/fatezero-error.js';
import type {ThreadCount} from './default-thread-count.js';
import type {ProviderProbe} from './execution-providers.js';
import type {HostTensor} from './host-tensor.js';
import type {ExecutionProviderName, RuntimeOptions, SessionSpec} from './session-spec.js';

/** Messages between the runtime client (main thread) and the inference worker. */
export type WorkerRequest =
	| {id: number; kind: 'create'; spec: SessionSpec; options: RuntimeOptions; threads: ThreadCount; probe?: ProviderProbe}
	| {id: number; kind: 'run'; session: number; feeds: Record<string, HostTensor>; fetches?: readonly string[]}
	| {id: number; kind: 'dispose'; session: number}
	/** Releases every session; the client terminates the thread after the reply. */
	| {id: number; kind: 'shutdown'}
	/** Test hook: ends the thread while a call is in flight, to exercise the crash path. */
	| {id: number; kind: 'crash'};

export type SessionInfo = {
	session: number;
	label: string;
	provider: ExecutionProviderName;
	threads: ThreadCount;
	inputNames: string[];
	outputNames: string[];
};

export type SerializedError = {code: FateZeroErrorCode; message: string};

export type WorkerReply =
	| {kind: 'ready'}
	| {kind: 'reply'; id: number; ok: true; value: unknown}
	| {kind: 'reply'; id: number; ok: false; error: SerializedError};

export const serializeError = (error: unknown): SerializedError =>
	error instanceof FateZeroError
		? {code: error.code, message: error.message}
		: {code: 'INFERENCE_FAILED', message: `Unexpected error in the inference worker: ${error instanceof Error ? error.message : String(error)}`};

/** Re-creates the worker's error in the caller's thread, same code and message. */
export const deserializeError = (error: SerializedError): FateZeroError => new FateZeroError(error.code, error.message);
