import {spawn} from 'node:child_process';
import {createRequire} from 'node:module';
import {defaultThreadCount} from './default-thread-count.js';
import {PROBE_MODEL_BASE64} from './probe-model.js';
import {essentialReason, fixFor, missingLibraryIn} from './provider-diagnosis.js';
import type {ExecutionProviderName} from './session-spec.js';

/** Whether one execution provider binds on this machine, and if not, why. */
export type ProviderProbe = {
	provider: ExecutionProviderName;
	available: boolean;
	/** ORT's name of the provider that ran the probe's node (from the profiler trace). */
	boundTo?: string;
	/** Why it did not bind, in ORT's words (shortened). */
	reason?: string;
	/** The shared library the loader could not open, e.g. `libvulkan.so.1`. */
	missingLibrary?: string;
	/** What to install or change. */
	fix?: string;
};

// ORT's names for our providers, as they appear in the profiler's `args.provider`.
const ORT_PROVIDER_PREFIX: Record<ExecutionProviderName, string> = {cpu: 'cpu', cuda: 'cuda', webgpu: 'webgpu'};

const PROBE_TIMEOUT_MS = 120_000;
const MAX_CAPTURE = 64 * 1024;

/**
 * The probe runs in a child node process because (1) the name of the library ORT could not load
 * only appears in ORT's native log on stderr, which a process cannot capture from itself, (2) a
 * broken GPU driver can crash the process that loads it, and (3) the user's console stays free of
 * ORT's error spam. The profiler trace is the only place onnxruntime-node says which provider
 * actually ran a node, so that is how a silent CPU fallback is caught.
 */
const CHILD_SOURCE = `
import {mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs';
import {createRequire} from 'node:module';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
const {ortEntry, provider, model, threads} = JSON.parse(process.argv[1]);
const report = (r) => process.stdout.write('\\nPROBE ' + JSON.stringify(r) + '\\n');
const dir = mkdtempSync(join(tmpdir(), 'fatezero-probe-'));
try {
	const ort = createRequire(ortEntry)(ortEntry);
	const session = await ort.InferenceSession.create(Buffer.from(model, 'base64'), {
		executionProviders: [provider], intraOpNumThreads: threads, enableProfiling: true, profileFilePrefix: join(dir, 'probe'),
	});
	const out = await session.run({x: new ort.Tensor('float32', new Float32Array([1, 2]), [2])});
	session.endProfiling();
	const file = readdirSync(dir).find((f) => f.endsWith('.json'));
	const trace = file ? JSON.parse(readFileSync(join(dir, file), 'utf8')) : [];
	const providers = [...new Set(trace.filter((e) => e.cat === 'Node').map((e) => e.args && e.args.provider).filter(Boolean))];
	await session.release();
	report({created: true, output: Array.from(out.y.data), providers});
} catch (error) {
	report({created: false, message: String((error && error.message) || error)});
} finally {
	rmSync(dir, {recursive: true, force: true});
}
`;

type ChildReport = {created: true; output: number[]; providers: string[]} | {created: false; message: string};

const append = (buffer: string, chunk: Buffer) => (buffer + chunk.toString('utf8')).slice(-MAX_CAPTURE);

/** Runs `x + x` with `provider` only, in a child process, and reads off what happened. */
export const probeInChildProcess = (provider: ExecutionProviderName): Promise<ProviderProbe> => {
	const ortEntry = createRequire(import.meta.url).resolve('onnxruntime-node');
	// the same thread count as the real sessions, so the probe loads the provider as they will
	const args = JSON.stringify({ortEntry, provider, model: PROBE_MODEL_BASE64, threads: defaultThreadCount().threads});
	return new Promise((resolve) => {
		// The child inherits env (LD_LIBRARY_PATH, CUDA_VISIBLE_DEVICES) but not our execArgv:
		// its script is plain JS, so it runs the same from sources and from dist.
		const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD_SOURCE, args], {
			stdio: ['ignore', 'pipe', 'pipe'],
			env: process.env,
			windowsHide: true,
		});
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (chunk: Buffer) => (stdout = append(stdout, chunk)));
		child.stderr.on('data', (chunk: Buffer) => (stderr = append(stderr, chunk)));
		const timer = setTimeout(() => child.kill('SIGKILL'), PROBE_TIMEOUT_MS);
		const unavailable = (reason: string, text: string): ProviderProbe => {
			const missingLibrary = missingLibraryIn(text);
			return {provider, available: false, reason, missingLibrary, fix: fixFor(provider, missingLibrary)};
		};
		child.on('error', (error) => {
			clearTimeout(timer);
			resolve(unavailable(`the probe process could not start (${error.message})`, ''));
		});
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			const line = stdout.split('\n').find((l) => l.startsWith('PROBE '));
			if (!line) {
				const how = signal === 'SIGKILL' ? `timed out after ${PROBE_TIMEOUT_MS / 1000} s` : `exited with ${signal ?? `code ${code}`}`;
				resolve(unavailable(`the probe process ${how} while loading ${provider} (${essentialReason(stderr)})`, stderr));
				return;
			}
			const report = JSON.parse(line.slice('PROBE '.length)) as ChildReport;
			if (!report.created) {
				resolve(unavailable(essentialReason(report.message), `${stderr}\n${report.message}`));
				return;
			}
			const bound = report.providers.find((p) => p.toLowerCase().startsWith(ORT_PROVIDER_PREFIX[provider]));
			if (!bound) {
				const ran = report.providers.join(', ') || 'no provider';
				resolve(unavailable(`ORT accepted '${provider}' but ran the probe graph on ${ran} (a silent fallback)`, stderr));
				return;
			}
			if (report.output[0] !== 2 || report.output[1] !== 4) {
				resolve(unavailable(`the probe graph computed [${report.output.join(', ')}] instead of [2, 4] on ${bound}`, stderr));
				return;
			}
			resolve({provider, available: true, boundTo: bound});
		});
	});
};
