/**
 * onnxruntime-node starts Microsoft's 1DS telemetry client when it creates its environment (the
 * first session): on POSIX that writes a `.ses` session file into the temp dir, never removed
 * (1.31.1; 1.30 also wrote an empty `mat-debug-<pid>.log` per process, the 1DS SDK's debug log,
 * created even when nothing is logged). ORT reads ORT_DISABLE_TELEMETRY from the environment at
 * that moment; set here before any session exists, so nothing is written outside the cache. A user
 * who sets the variable (to anything, "0" included) keeps their value. Only the main thread's
 * process.env reaches the real environment (a worker thread's is a copy native code never reads),
 * so the inference worker's starter imports this too; child processes inherit it.
 */
export const disableOrtTelemetry = (): void => {
	process.env.ORT_DISABLE_TELEMETRY ??= '1';
};

disableOrtTelemetry();
