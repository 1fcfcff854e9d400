import {spawn, type ChildProcess} from 'node:child_process';
import {existsSync, mkdirSync} from 'node:fs';
import {createRequire} from 'node:module';
import net from 'node:net';
import path from 'node:path';
import {parseArgs} from 'node:util';
import {FateZeroError} from '../errors/fatezero-error.js';
import {GENERATED_TINY_MODEL} from '../project/project-settings.js';
import {NO_MODEL_ADVICE} from '../project/resolve-model.js';
import {loadRemotionProject, remotionCliScript} from '../node/remotion-project.js';
import {startJobServer} from '../studio/job-server.js';
import {DEFAULT_CLIENT_GRACE_MS} from '../studio/studio-clients.js';
import {studioOrigins} from '../studio/origin-policy.js';
import {DEFAULT_JOB_SERVER_PORT, JOB_SERVER_ENV, type StudioJobState} from '../clip/studio-job-state.js';
import {integerOption, withArgErrors} from './parse-cli-args.js';
import {printSettings, SETTINGS_FLAG_OPTIONS, SETTINGS_HELP, settingsFromFlags} from './settings-flags.js';

export const STUDIO_HELP = `fatezero studio [entry] [options] [settings]

Starts the FateZero job server on 127.0.0.1, then your project's Remotion Studio with your
remotion.config.ts and public dir. A <FateZeroClip> whose frames are not published yet shows a
progress card (stage, step i/N, ETA, a preview image) and asks the job server to compute it; the
finished frames are published into <public dir>/fatezero/ and replace the card. A job starts once
a clip's props stay unchanged for a second (typing a prompt asks for one job); the card has Cancel
and, after a failure, Retry; jobs no open composition shows any more (or whose Studio tab was
closed) are cancelled. While a job runs the card shows live previews of the edit, and a cheap
draft (half size, 12 steps) is shown, marked DRAFT, until the final clip replaces it. The old results stay cached. Ctrl-C stops both.

Run it from the Remotion project's folder (where remotion.config.ts and node_modules are).
[entry] is the Remotion entry file; default: the one Remotion finds (e.g. src/index.ts).

Options:
  --port N               Studio's port. Default: the first free port from 3000.
  --job-server-port N    The job server's port on 127.0.0.1 (0: any free one). Default ${DEFAULT_JOB_SERVER_PORT}; the Studio
                         page learns it through ${JOB_SERVER_ENV}.
  --allow-origin URL     Another origin allowed to call the job server (repeatable), e.g. a Studio opened
                         through its network address. Default: http://localhost:<port> and http://127.0.0.1:<port>.
  --closed-tab-grace-s N How long the job server keeps the jobs of a Studio tab that was closed, reloaded
                         or crashed before it cancels them (a reload asks again within it). Default ${DEFAULT_CLIENT_GRACE_MS / 1000}.
  --network              Let Remotion Studio listen on every network interface, as "npx remotion studio"
                         does (other machines can then open it, and with it your footage and edits).
                         Default: loopback only (127.0.0.1). Remotion 4.0.529 has no host option; FateZero
                         makes the Studio process bind its servers to 127.0.0.1 itself.
                         The job server always listens on 127.0.0.1 only.
  --open                 Open Studio in the default browser.
Clips naming another model than the configured one are refused.

${SETTINGS_HELP}`;

/**
 * Remotion 4.0.529's Studio binds its server to 0.0.0.0 or :: and has no option to change it
 * (@remotion/renderer's getPortConfig): this module, preloaded into the Studio process, turns
 * every wildcard bind of that process into a loopback bind, so the cache it serves (source
 * footage and edits) stays on this machine. Both families go to 127.0.0.1: browsers and Node try
 * it for "localhost" when ::1 refuses.
 */
const LOOPBACK_PRELOAD = `data:text/javascript,${encodeURIComponent(`
import net from 'node:net';
const listen = net.Server.prototype.listen;
const wildcard = (host) => host === '0.0.0.0' || host === '::' || host === undefined || host === null || host === '';
net.Server.prototype.listen = function (...args) {
	const [first] = args;
	if (first !== null && typeof first === 'object' && !Array.isArray(first) && first.path === undefined && first.fd === undefined && first.handle === undefined && first._handle === undefined && wildcard(first.host)) {
		args[0] = {...first, host: '127.0.0.1'};
	} else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
		if (typeof args[1] === 'string' ? wildcard(args[1]) : true) args.splice(1, typeof args[1] === 'string' ? 1 : 0, '127.0.0.1');
	}
	return listen.apply(this, args);
};
`)}`;

/**
 * Studio watches the public dir with fs.watch({recursive: true}), which on Linux (Node 20) reads
 * every new folder and emits an unhandled 'error' (killing Studio) when the folder is gone
 * before it is read: FateZero publishes a clip by renaming a temporary folder into place. This
 * preload ignores that ENOENT in the Studio process; any other watch error still throws.
 */
const WATCH_PRELOAD = `data:text/javascript,${encodeURIComponent(`
import fs from 'node:fs';
const watch = fs.watch;
fs.watch = function (...args) {
	const watcher = watch.apply(this, args);
	watcher.on('error', (error) => {
		if (error && error.code === 'ENOENT' && watcher.listenerCount('error') === 1) return;
		if (watcher.listenerCount('error') === 1) throw error;
	});
	return watcher;
};
`)}`;

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
	if (state.status === 'cancelled') return `⊘ ${what} cancelled${state.cancelledBy === 'unused' ? ' (no open composition shows it)' : ''}`;
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
				...SETTINGS_FLAG_OPTIONS,
				port: {type: 'string'},
				'job-server-port': {type: 'string'},
				'closed-tab-grace-s': {type: 'string'},
				'allow-origin': {type: 'string', multiple: true},
				open: {type: 'boolean'},
				network: {type: 'boolean'},
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
	const settings = settingsFromFlags(values);
	// Remotion's root is where the command runs (as for npx remotion); sources resolve against the project root
	const projectDir = process.cwd();
	if (settings.model.value === null) {
		throw new FateZeroError('MODEL_NOT_CONFIGURED', `No model is configured, so Studio's clips could not be computed; nothing was started.\n${NO_MODEL_ADVICE}`);
	}
	const project = await loadRemotionProject(settings, process.cwd());
	printSettings(settings, project);
	const cli = remotionCliScript(projectDir);
	// Studio watches the public dir it finds at start: create it (and our folder) first
	mkdirSync(path.join(project.publicDir.value, 'fatezero'), {recursive: true});
	const cacheDir = settings.cacheDir.value;
	const projectRoot = settings.projectRoot;
	const studioPort = values.port === undefined ? await pickStudioPort() : integerOption('port', values.port, 3000, 1024);
	const jobServerPort = integerOption('job-server-port', values['job-server-port'], DEFAULT_JOB_SERVER_PORT, 0);
	const closedTabGraceSeconds = integerOption('closed-tab-grace-s', values['closed-tab-grace-s'], DEFAULT_CLIENT_GRACE_MS / 1000, 1);
	const model = settings.model.value;

	const server = await startJobServer({
		port: jobServerPort,
		clientGraceMs: closedTabGraceSeconds * 1000,
		cacheDir,
		projectRoot,
		allowedOrigins: [...studioOrigins(studioPort), ...(values['allow-origin'] ?? [])],
		allowedModels: model === GENERATED_TINY_MODEL ? [] : [model],
		executionProvider: settings.executionProvider.value,
		queueOptions: {model: settings.model, publicDir: project.publicDir.value, computeType: settings.computeType.value, threads: settings.threads.value},
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
	console.log(`FateZero job server: ${server.url} (store ${cacheDir}, clips published into ${project.publicDir.value}/fatezero, sources under ${projectRoot})`);
	if (model === GENERATED_TINY_MODEL) console.log('⚠ Model: the generated random-weight test model (generated:tiny): edited frames are noise.');
	console.log(`Remotion Studio: ${studioUrl} (starting…)`);
	console.log(
		values.network
			? '⚠ Remotion Studio listens on every network interface (--network): other machines can open it, and it serves your source footage and edits.'
			: 'Remotion Studio listens on 127.0.0.1 only (Remotion 4.0.529 has no host option, so FateZero binds it; its "Network:" address does not answer). --network opts in to the network.',
	);

	const child = spawn(
		process.execPath,
		[
			'--import',
			WATCH_PRELOAD,
			...(values.network ? [] : ['--import', LOOPBACK_PRELOAD]),
			cli,
			'studio',
			...(entry ? [entry] : []),
			'--port',
			String(studioPort),
			// remotion.config.ts's public dir is read by Studio itself; FateZero's own setting must be passed
			...(project.publicDir.source === 'remotion.config' || project.publicDir.source === 'default' ? [] : ['--public-dir', project.publicDir.value]),
			...(values.open ? [] : ['--no-open']),
		],
		{cwd: projectDir, env: {...process.env, ...project.envVariables, [JOB_SERVER_ENV]: server.url}, stdio: ['inherit', 'inherit', 'inherit']},
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
