import {spawn, type ChildProcess} from 'node:child_process';
import {existsSync} from 'node:fs';
import {createRequire} from 'node:module';
import net from 'node:net';
import path from 'node:path';
import {parseArgs} from 'node:util';
import {FateZeroError} from '../errors/fatezero-error.js';
import {resolveCacheDir} from '../frame-cache/resolve-cache-dir.js';
import {parseExecutionProvider} from '../runtime/index.js';
import {startJobServer} from '../studio/job-server.js';
import {studioOrigins} from '../studio/origin-policy.js';
import {DEFAULT_JOB_SERVER_PORT, JOB_SERVER_ENV, type StudioJobState} from '../studio/studio-job-state.js';
import {integerOption, withArgErrors} from './parse-cli-args.js';

export const STUDIO_HELP = `fatezero studio [entry] [options]

Starts the FateZero job server on 127.0.0.1, then Remotion Studio with the FateZero cache as its
public dir. A <FateZeroClip> whose frames are not cached shows a progress card (stage, step i/N,
ETA, a preview image) and asks the job server to compute it; the edited frames replace the card
when the job is done. Editing a prompt in the props panel queues a new job; the old result stays
cached. Ctrl-C stops both.

Run it from the Remotion project's folder (where remotion.config.ts and node_modules are).
[entry] is the Remotion entry file; default: the one Remotion finds (e.g. src/index.ts).

Options:
  --port N               Studio's port. Default: the first free port from 3000.
  --job-server-port N    The job server's port on 127.0.0.1 (0: any free one). Default ${DEFAULT_JOB_SERVER_PORT}; the Studio
                         page learns it through ${JOB_SERVER_ENV}.
  --cache-dir DIR        The FateZero cache, also Studio's public dir. Default FATEZERO_CACHE_DIR or ./cache.
  --project-root DIR     Clip sources resolve against it and must lie inside it. Default: the current folder.
  --model DIR            SD-1.x model folder for the jobs. Default FATEZERO_MODEL, else the generated tiny
                         random-weight model (noise-like results). Clips naming another model are refused.
  --allow-origin URL     Another origin allowed to call the job server (repeatable), e.g. a Studio opened
                         through its network address. Default: http://localhost:<port> and http://127.0.0.1:<port>.
  --execution-provider P cpu | cuda | webgpu. Default cpu.
  --open                 Open Studio in the default browser.`;

/** Whether `port` can be bound on every loopback/wildcard host Studio may use. */
const portIsFree = async (port: number): Promise<boolean> => {
	for (const host of ['127.0.0.1', '0.0.0.0', '::']) {
		const free = await new Promise<boolean>((resolve) => {
			const probe = net.createServer();
			probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'EAFNOSUPPORT' || error.code === 'EADDRNOTAVAIL'));
			probe.listen(port, host, () => probe.close(() => resolve(true)));
		});
		if (!free) return false;
	}
	return true;
};

// Studio's port has to be known before it starts: it is part of the origins the job server allows.
const pickStudioPort = async (): Promise<number> => {
	for (let port = 3000; port <= 3100; port++) if (await portIsFree(port)) return port;
	throw new FateZeroError('INVALID_OPTION', 'No free port for Studio between 3000 and 3100. Pass one with --port.');
};

const remotionCli = (projectDir: string): string => {
	try {
		const require = createRequire(path.join(projectDir, 'package.json'));
		return path.join(path.dirname(require.resolve('@remotion/cli/package.json')), 'remotion-cli.js');
	} catch {
		throw new FateZeroError(
			'INVALID_INPUT',
			`Remotion Studio (@remotion/cli) is not installed for ${projectDir}. Run "fatezero studio" from your Remotion project's folder, or install it there: npm i -D @remotion/cli@4.0.529 remotion@4.0.529.`,
		);
	}
};

const waitForStudio = async (url: string, child: ChildProcess, timeoutMs: number): Promise<boolean> => {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
		try {
			// Studio answers 503 until its first bundle is built
			if ((await fetch(url, {signal: AbortSignal.timeout(2000)})).status === 200) return true;
		} catch {
			// not listening yet
		}
		await new Promise((resolve) => setTimeout(resolve, 300));
	}
	return false;
};

const describeState = (state: StudioJobState): string => {
	const what = `job ${state.descriptorKey.slice(0, 12)} "${state.label}"`;
	if (state.status === 'done') return `✔ ${what} done → clips/${state.editKey}/`;
	if (state.status === 'failed') return `✖ ${what} failed: ${state.error}`;
	if (state.status === 'queued') return `• ${what} queued`;
	return `• ${what} ${state.stage}${state.total > 1 ? ` ${state.step}/${state.total}` : ''}`;
};

export const studioCommand = async (args: string[]): Promise<number> => {
	const {values, positionals} = withArgErrors('studio', () =>
		parseArgs({
			args,
			strict: true,
			allowPositionals: true,
			options: {
				port: {type: 'string'},
				'job-server-port': {type: 'string'},
				'cache-dir': {type: 'string'},
				'project-root': {type: 'string'},
				model: {type: 'string'},
				'allow-origin': {type: 'string', multiple: true},
				'execution-provider': {type: 'string'},
				open: {type: 'boolean'},
			},
		}),
	);
	if (positionals.length > 1) {
		throw new FateZeroError('INVALID_OPTION', `fatezero studio takes at most one entry file; got ${positionals.length} (${positionals.join(', ')}). Run "fatezero studio --help".`);
	}
	const entry = positionals[0];
	if (entry !== undefined && !existsSync(entry)) {
		throw new FateZeroError('INVALID_OPTION', `Entry file ${entry} does not exist (looked in ${process.cwd()}). Pass your Remotion entry, e.g. "fatezero studio src/index.ts".`);
	}
	const projectDir = process.cwd();
	const cli = remotionCli(projectDir);
	const cacheDir = resolveCacheDir(values['cache-dir']);
	const projectRoot = path.resolve(values['project-root'] ?? projectDir);
	const studioPort = values.port === undefined ? await pickStudioPort() : integerOption('port', values.port, 3000, 1024);
	const jobServerPort = integerOption('job-server-port', values['job-server-port'], DEFAULT_JOB_SERVER_PORT, 0);
	const executionProvider = values['execution-provider'] === undefined ? undefined : parseExecutionProvider(values['execution-provider']);
	if (values.model) {
		const model = path.resolve(values.model);
		if (!existsSync(model)) throw new FateZeroError('INVALID_OPTION', `--model ${values.model} does not exist (${model}). Pass a Stable Diffusion 1.x folder (diffusers layout).`);
		// jobs of clips with model null use FATEZERO_MODEL (runClipJob); this process is ours
		process.env.FATEZERO_MODEL = model;
	}
	const model = process.env.FATEZERO_MODEL;

	const server = await startJobServer({
		port: jobServerPort,
		cacheDir,
		projectRoot,
		allowedOrigins: [...studioOrigins(studioPort), ...(values['allow-origin'] ?? [])],
		allowedModels: model ? [model] : [],
		executionProvider,
	});
	const lastStage = new Map<string, string>();
	server.jobs.subscribe((state) => {
		// one line per stage, not per step; the ✔ line follows the last progress event
		if (state.status === 'running' && state.stage === 'done') return;
		const mark = `${state.status}/${state.stage}`;
		if (lastStage.get(state.descriptorKey) === mark) return;
		lastStage.set(state.descriptorKey, mark);
		console.log(describeState(state));
	});
	const studioUrl = `http://localhost:${studioPort}`;
	console.log(`FateZero job server: ${server.url} (cache ${cacheDir}, sources under ${projectRoot})`);
	console.log(model ? `Model: ${model}` : 'Model: none configured (--model or FATEZERO_MODEL): jobs use the generated tiny random-weight model; its images are noise-like.');
	console.log(`Remotion Studio: ${studioUrl} (starting…)`);

	const child = spawn(
		process.execPath,
		[cli, 'studio', ...(entry ? [entry] : []), '--port', String(studioPort), '--public-dir', cacheDir, ...(values.open ? [] : ['--no-open'])],
		{cwd: projectDir, env: {...process.env, [JOB_SERVER_ENV]: server.url}, stdio: ['inherit', 'inherit', 'inherit']},
	);
	const exited = new Promise<number>((resolve) => {
		child.once('exit', (code, signal) => resolve(code ?? (signal ? 0 : 1)));
		child.once('error', (error) => {
			console.error(`✖ Could not start Remotion Studio (${cli}): ${error.message}`);
			resolve(1);
		});
	});
	let stopping = false;
	const stop = new Promise<'signal'>((resolve) => {
		const onSignal = (signal: NodeJS.Signals) => {
			if (stopping) return;
			stopping = true;
			console.log(`\nStopping Remotion Studio and the FateZero job server (${signal})…`);
			resolve('signal');
		};
		process.once('SIGINT', onSignal);
		process.once('SIGTERM', onSignal);
	});

	void waitForStudio(studioUrl, child, 180_000).then((ready) => {
		if (ready) console.log(`✔ Studio ready: ${studioUrl}  (job server ${server.url})`);
	});
	const outcome = await Promise.race([exited.then((code) => ({code})), stop]);
	if (child.exitCode === null && child.signalCode === null) {
		child.kill('SIGTERM');
		// Studio exits within ~2 s on SIGTERM; do not hang on a stuck one
		const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
		await exited;
		clearTimeout(killer);
	}
	await server.close();
	if (outcome === 'signal') return 0;
	if (!stopping) console.error(`✖ Remotion Studio exited (code ${outcome.code}); the job server is stopped too.`);
	return outcome.code === 0 ? 0 : 1;
};
