import {FateZeroError} from '../errors/fatezero-error.js';
import type {ExecutionProviderName} from './session-spec.js';

/**
 * Turns what ORT said when a provider did not bind into a message a user can act on.
 * ORT's thrown message for CUDA is only "Failed to load shared library"; the library name is in
 * the native log on stderr, which is why the probe runs in a child process and passes its stderr
 * here too.
 */

/** The shared library the dynamic loader could not open, e.g. `libvulkan.so.1`. */
export const missingLibraryIn = (text: string): string | undefined => {
	// Linux dlopen: "<path>/libX.so.N: cannot open shared object file" names the library that is
	// really missing, which may be a dependency (libcudnn.so.9) of the one ORT asked for.
	const linux = /([^\s/\\:'"]+\.so(?:\.\d+)*): cannot open shared object file/.exec(text);
	if (linux) return linux[1];
	// Windows LoadLibrary: `... when trying to load "C:\...\onnxruntime_providers_cuda.dll"`.
	const windows = /"([^"]+\.dll)"/i.exec(text);
	if (windows) return windows[1].split(/[\\/]/).pop();
	const generic = /Failed to load library (\S+?)(?: with error|$)/m.exec(text);
	if (generic) return generic[1].split(/[\\/]/).pop();
	return undefined;
};

/** The line of ORT's output that says what failed, without its source-file prefix. */
export const essentialReason = (text: string): string => {
	const lines = text
		.split('\n')
		.map((line) => line.replace(/\x1b\[[0-9;]*m/g, '').trim())
		.filter(Boolean);
	const pick =
		lines.find((l) => /cannot open shared object file|Failed to get a WebGPU adapter|no CUDA-capable device/i.test(l)) ??
		lines.find((l) => /fail|error|cannot|unable/i.test(l)) ??
		lines[0] ??
		'no message';
	// ORT prefixes messages with "/onnxruntime_src/...cc:123 fn(...) "; the reader needs the tail.
	let shortened = pick.replace(/^.*?\[ONNXRuntimeError\] : \d+ : \w+ : /, '').replace(/^\S*onnxruntime_src\S*:\d+ /, '');
	// ORT_ENFORCE failures read "<function> <condition> was false. <message>": keep the message.
	const enforced = / was false\. (.+)$/.exec(shortened);
	if (enforced) shortened = enforced[1];
	return shortened.length > 400 ? `${shortened.slice(0, 400)}…` : shortened;
};

// onnxruntime-node's flag is still called cuda12, but it downloads NuGet's default GPU build
// (Microsoft.ML.OnnxRuntime.Gpu.Linux of the same version): CUDA 13 + cuDNN 9 since ORT 1.27, which
// deprecated the CUDA 12 packages (onnxruntime issue 29032). The missing library names the major.
const CUDA_FIX =
	'CUDA needs an NVIDIA GPU and driver, the CUDA 13.x and cuDNN 9.x libraries on the library path (the majors the ' +
	'provider files were built for; a missing library names its major), and the CUDA provider files, which the ' +
	'onnxruntime-node npm package does not ship: run `npm install onnxruntime-node --onnxruntime-node-install=cuda12` ' +
	'(despite its name, it downloads the default GPU build of the same ORT version from NuGet).';

/** What a CUDA library's soname says is missing: `libcublasLt.so.13` → "CUDA 13", `libcudnn.so.9` → "cuDNN 9". */
export const cudaComponentOf = (library: string): string | undefined => {
	const major = /\.so\.(\d+)/.exec(library)?.[1] ?? /(?:64_|_)(\d+)\.dll$/i.exec(library)?.[1];
	if (/^(lib)?cudnn/i.test(library)) return major ? `cuDNN ${major}` : 'cuDNN';
	// these sonames carry the CUDA major (cufft and curand number their own versions)
	if (/^(lib)?(cudart|cublasLt|cublas|nvrtc)/i.test(library)) return major ? `CUDA ${major}` : 'CUDA';
	if (/^(lib)?cu(fft|rand|pti)/i.test(library)) return 'the CUDA toolkit';
	return undefined;
};

const WEBGPU_FIX =
	'WebGPU on Linux runs on Vulkan: install the Vulkan loader and a Vulkan driver for your GPU ' +
	'(Debian/Ubuntu: `apt install libvulkan1 mesa-vulkan-drivers`, or the NVIDIA driver with its Vulkan ICD).';

/** What to do so that `provider` binds, specialised to the library that was missing. */
export const fixFor = (provider: ExecutionProviderName, missingLibrary: string | undefined): string => {
	if (provider === 'cuda') {
		const component = missingLibrary ? cudaComponentOf(missingLibrary) : undefined;
		if (component) {
			return `${missingLibrary} belongs to ${component}, which the CUDA provider files were built against: install it and put its lib folder on LD_LIBRARY_PATH (Windows: PATH). ${CUDA_FIX}`;
		}
		return CUDA_FIX;
	}
	if (provider === 'webgpu') return WEBGPU_FIX;
	return 'The CPU provider is part of onnxruntime-node: reinstall it with `npm install onnxruntime-node`.';
};

/** Whether an ORT session-creation error is about the provider rather than the graph. */
export const isProviderLoadFailure = (message: string): boolean =>
	/AppendExecutionProvider|Failed to load (shared )?library|WebGPU adapter|cannot open shared object|CUDA driver|no CUDA-capable device|cudaError|CUDA failure|cuDNN/i.test(
		message,
	);

export type ProviderFailure = {
	provider: ExecutionProviderName;
	reason: string;
	missingLibrary?: string;
	fix: string;
};

export const providerUnavailableError = (failure: ProviderFailure, cause?: unknown): FateZeroError => {
	const library = failure.missingLibrary ? ` ORT could not load ${failure.missingLibrary}.` : '';
	return new FateZeroError(
		'PROVIDER_UNAVAILABLE',
		`executionProvider: '${failure.provider}' is not available on this machine: ${failure.reason}.${library} ${failure.fix} ` +
			`Or set executionProvider: 'cpu' (there is no automatic CPU fallback).`,
		{cause},
	);
};
