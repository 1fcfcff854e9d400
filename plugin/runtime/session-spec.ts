/** What a session is made of: a serialized graph plus the weight files its initializers point into. */
export type SessionSpec = {
	/** Human-readable name for errors and logs, e.g. "unet (tiny-sd)". */
	label: string;
	/** Path of a .onnx file, or its bytes. */
	graph: string | Uint8Array;
	/**
	 * External data files: `location` is the string the graph's initializers use, `file` the
	 * absolute path to read. They are handed to ORT as buffers (ORT refuses external paths that
	 * leave the graph's folder, even through symlinks), so the user's model folder stays untouched.
	 */
	externalData: {location: string; file: string}[];
};

export type ExecutionProviderName = 'cpu' | 'cuda' | 'webgpu';

export type RuntimeOptions = {
	/** Where inference runs. Default 'cpu'. A requested provider that cannot bind throws. */
	executionProvider?: ExecutionProviderName;
	/**
	 * Threads for one operator (ORT intra-op). Default: FATEZERO_THREADS, else the cores this process
	 * may use (os.availableParallelism(), lowered to a cgroup CPU quota); see defaultThreadCount.
	 */
	intraOpThreads?: number;
	/**
	 * Sessions created in this thread with createOrtSession only: write ORT's per-node profile
	 * (kernel times, the provider of every node, input and output shapes) to `<prefix>_<time>.json`;
	 * `endProfiling()` on the session finishes it and returns the path (profile-report.ts reads it).
	 */
	profileFilePrefix?: string;
};
