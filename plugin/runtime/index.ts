export type {HostTensor} from './host-tensor.js';
export {float16Tensor, float32Tensor, int64Tensor} from './host-tensor.js';
export type {ExecutionProviderName, RuntimeOptions, SessionSpec} from './session-spec.js';
export type {ProviderProbe} from './execution-providers.js';
export {EXECUTION_PROVIDERS, parseExecutionProvider, probeExecutionProvider, probeExecutionProviders} from './execution-providers.js';
export type {InferenceRuntime, InferenceSession, RunOptions} from './inference-runtime.js';
export {createInferenceRuntime} from './inference-runtime.js';
export type {ThreadCount, ThreadCountSource} from './default-thread-count.js';
export {cgroupCpuLimit, defaultThreadCount} from './default-thread-count.js';
