import {existsSync} from 'node:fs';
import {createRequire} from 'node:module';
import {dirname, join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {isFateZeroError} from '../../plugin/errors/fatezero-error.js';
import {createInferenceRuntime, probeExecutionProviders, type InferenceRuntime} from '../../plugin/runtime/index.js';
import {parseExecutionProvider} from '../../plugin/runtime/execution-providers.js';
import {createOrtSession} from '../../plugin/runtime/ort-session.js';
import {cudaComponentOf, essentialReason, fixFor, missingLibraryIn} from '../../plugin/runtime/provider-diagnosis.js';
import {smallGraph} from './tiny-graphs.js';

// Captured from onnxruntime-node 1.30 on a machine without CUDA files and without Vulkan.
const CUDA_STDERR =
	'\x1b[1;31m2026-11-24 22:41:21.859 [E:onnxruntime:onnxruntime-node, provider_bridge_ort.cc:2146 Create] /onnxruntime_src/onnxruntime/core/session/provider_bridge_ort.cc:1988 onnxruntime::Provider& onnxruntime::ProviderLibrary::Get() [ONNXRuntimeError] : 1 : FAIL : Failed to load library /x/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_shared.so with error: /x/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_shared.so: cannot open shared object file: No such file or directory\x1b[m';
const WEBGPU_STDERR =
	"Warning: Couldn't load Vulkan: libvulkan.so.1: cannot open shared object file: No such file or directory\n    at operator() (/build/Release/_deps/dawn-src/src/dawn/native/vulkan/BackendVk.cpp:368)";
const WEBGPU_THROWN =
	'/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters\n';

describe('provider diagnosis', () => {
	it('names the library the loader could not open', () => {
		expect(missingLibraryIn(CUDA_STDERR)).toBe('libonnxruntime_providers_shared.so');
		expect(missingLibraryIn(WEBGPU_STDERR)).toBe('libvulkan.so.1');
		// A provider library that loads but lacks a dependency: the dependency is what is missing.
		expect(missingLibraryIn('Failed to load library libonnxruntime_providers_cuda.so with error: libcudnn.so.9: cannot open shared object file: No such file or directory')).toBe('libcudnn.so.9');
		expect(missingLibraryIn('LoadLibrary failed with error 126 "" when trying to load "C:\\app\\onnxruntime_providers_cuda.dll"')).toBe('onnxruntime_providers_cuda.dll');
		expect(missingLibraryIn('Failed to get a WebGPU adapter: No supported adapters')).toBeUndefined();
	});

	it('says which CUDA or cuDNN major a missing library belongs to, from its soname', () => {
		expect(cudaComponentOf('libcublasLt.so.13')).toBe('CUDA 13');
		expect(cudaComponentOf('libcudart.so.12')).toBe('CUDA 12');
		expect(cudaComponentOf('libcudnn.so.9')).toBe('cuDNN 9');
		expect(cudaComponentOf('cudnn64_9.dll')).toBe('cuDNN 9');
		expect(cudaComponentOf('libcufft.so.12')).toBe('the CUDA toolkit'); // cuFFT numbers its own versions
		expect(cudaComponentOf('libvulkan.so.1')).toBeUndefined();
		expect(fixFor('cuda', 'libcublasLt.so.13')).toMatch(/^libcublasLt\.so\.13 belongs to CUDA 13, .*LD_LIBRARY_PATH/);
		expect(fixFor('cuda', 'libonnxruntime_providers_shared.so')).toMatch(/--onnxruntime-node-install=cuda12/);
	});

	it('keeps the sentence of ORT messages that says what failed', () => {
		expect(essentialReason(WEBGPU_THROWN)).toBe('Failed to get a WebGPU adapter: No supported adapters');
		expect(essentialReason(CUDA_STDERR)).toMatch(/^Failed to load library .*libonnxruntime_providers_shared\.so: cannot open shared object file/);
	});
});

describe('provider names', () => {
	it('rejects unknown providers with PROVIDER_UNKNOWN listing the valid ones', async () => {
		expect(() => parseExecutionProvider('tpu')).toThrow(/executionProvider: "tpu" is not an execution provider\. Use one of 'cpu', 'cuda', 'webgpu'/);
		const error = await createInferenceRuntime({executionProvider: 'CUDA' as never}).catch((e: unknown) => e);
		expect(isFateZeroError(error, 'PROVIDER_UNKNOWN')).toBe(true);
		await expect(createOrtSession({label: 'x', graph: smallGraph(), externalData: []}, {executionProvider: 'gpu' as never})).rejects.toMatchObject({
			code: 'PROVIDER_UNKNOWN',
		});
	});
});

describe('probeExecutionProviders', () => {
	it('reports every provider, CPU bound, and caches the result per process', async () => {
		const probes = await probeExecutionProviders();
		expect(probes.map((p) => p.provider)).toEqual(['cpu', 'cuda', 'webgpu']);
		expect(probes[0]).toEqual({provider: 'cpu', available: true, boundTo: 'CPUExecutionProvider'});
		for (const probe of probes.filter((p) => !p.available)) {
			expect(probe.reason).toBeTruthy();
			expect(probe.fix).toBeTruthy();
		}
		const again = await probeExecutionProviders();
		for (let i = 0; i < probes.length; i++) expect(again[i]).toBe(probes[i]);
	});
});

describe.each(['cuda', 'webgpu'] as const)('executionProvider: %s', (provider) => {
	let runtime: InferenceRuntime;
	afterAll(() => runtime?.dispose());

	it('binds when the probe says it can, otherwise refuses with the library and the fix (no CPU fallback)', async () => {
		const probe = (await probeExecutionProviders()).find((p) => p.provider === provider)!;
		runtime = await createInferenceRuntime({executionProvider: provider});
		const creating = runtime.createSession({label: `small on ${provider}`, graph: smallGraph(), externalData: []});
		if (probe.available) {
			const session = await creating;
			expect(session.provider).toBe(provider);
			expect(probe.boundTo?.toLowerCase()).toContain(provider);
			return;
		}
		const error = await creating.catch((e: unknown) => e);
		expect(isFateZeroError(error, 'PROVIDER_UNAVAILABLE')).toBe(true);
		const message = (error as Error).message;
		expect(message).toContain(`executionProvider: '${provider}'`);
		expect(message).toContain("executionProvider: 'cpu'");
		if (probe.missingLibrary) expect(message).toContain(`ORT could not load ${probe.missingLibrary}`);
		if (provider === 'cuda') {
			expect(message).toContain('npm install onnxruntime-node --onnxruntime-node-install=cuda12');
			expect(message).toMatch(/CUDA 13\.x and cuDNN 9\.x/);
			// The npm tarball lacks the CUDA provider files; where they are absent, that is the library named.
			const binDir = join(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
			if (process.platform === 'linux' && !existsSync(join(binDir, 'libonnxruntime_providers_shared.so'))) {
				expect(message).toContain('libonnxruntime_providers_shared.so');
			}
		} else {
			expect(message).toContain('Vulkan');
		}
		// The in-thread session refuses the same way.
		await expect(createOrtSession({label: 'x', graph: smallGraph(), externalData: []}, {executionProvider: provider})).rejects.toMatchObject({
			code: 'PROVIDER_UNAVAILABLE',
		});
	});
});
