import {execFile, spawn, type ChildProcess} from 'node:child_process';
import {copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs';
import net, {type AddressInfo} from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {promisify} from 'node:util';
import sharp from 'sharp';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {descriptorKey} from '../../plugin/clip/descriptor-key.js';
import {fateZeroClip} from '../../plugin/clip/fatezero-clip.js';
import type {StudioJobState} from '../../plugin/clip/studio-job-state.js';
import {decodeVideoFrame, meanAbsDiff, readRgb, type Rgb} from '../remotion/remotion-test-helpers.js';

// The README's "Install into your project", followed literally in a fresh Remotion project:
// npm pack → a new project (remotion, @remotion/cli, react, zod from the registry; its own
// public/logo.png; a real video; no remotion.config.ts) → npm install <tarball> → npx fatezero
// prerender → plain npx remotion render / studio, then npx fatezero render; then again with a
// remotion.config.ts that sets another public dir and a webpack alias. Between them, npx fatezero
// studio: Studio on loopback only, a new clip computed through its job server and served by Studio.

const run = promisify(execFile);
const REMOTION = process.env.FATEZERO_E2E_REMOTION_VERSION ?? '4.0.529';
const FOOTAGE = path.resolve('../shared/footage/car-turn.mp4');
const BROWSER = '/usr/bin/chromium';
const work = mkdtempSync(path.join(os.tmpdir(), 'fatezero-e2e-'));
const app = path.join(work, 'my-video');
afterAll(() => rmSync(work, {recursive: true, force: true}));

// The user's environment: none of this repository's settings leak into the project.
const userEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
	const env: NodeJS.ProcessEnv = {...process.env, ...extra};
	for (const name of Object.keys(env)) if (name.startsWith('FATEZERO_') && !(name in extra)) delete env[name];
	delete env.NODE_OPTIONS;
	return env;
};

const npx = async (args: string[], env: Record<string, string> = {}) => {
	try {
		const {stdout, stderr} = await run('npx', ['--no-install', ...args], {cwd: app, env: userEnv(env), maxBuffer: 64 * 2 ** 20, timeout: 300_000});
		return {code: 0, stdout, stderr};
	} catch (error) {
		const e = error as {code?: number; stdout?: string; stderr?: string};
		return {code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? ''};
	}
};

const CLIP_INPUT = {source: 'media/car-turn.mp4', sourcePrompt: 'a jeep on a road', prompt: 'a red jeep on a road', size: 64, frames: {count: 4}, steps: 3, leastScChannel: 64};
const CLIP = JSON.stringify(CLIP_INPUT);

const root = (importClip: string) => `import {AbsoluteFill, Composition, Img, staticFile} from 'remotion';
import {FateZeroClip, fateZeroMetadata} from 'remotion-fatezero';
${importClip}

// The edited clip fills the frame; the user's own logo sits in the top-left 32×32 corner.
const Edited = () => (
	<AbsoluteFill style={{background: 'black'}}>
		<FateZeroClip clip={clip} />
		<Img src={staticFile('logo.png')} style={{position: 'absolute', left: 0, top: 0, width: 32, height: 32}} />
	</AbsoluteFill>
);

export const RemotionRoot = () => (
	<Composition id="Edited" component={Edited} width={128} height={128} fps={10} durationInFrames={4} calculateMetadata={fateZeroMetadata({clips: () => [clip]})} />
);
`;

const writeProject = async () => {
	mkdirSync(path.join(app, 'src'), {recursive: true});
	mkdirSync(path.join(app, 'public'), {recursive: true});
	mkdirSync(path.join(app, 'media'), {recursive: true});
	writeFileSync(path.join(app, 'package.json'), JSON.stringify({name: 'my-video', private: true, type: 'module'}, null, 2));
	writeFileSync(path.join(app, '.npmrc'), 'onnxruntime-node-install=skip\n');
	writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({compilerOptions: {target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', jsx: 'react-jsx', strict: true, skipLibCheck: true}}, null, 2));
	writeFileSync(path.join(app, 'src/index.ts'), `import {registerRoot} from 'remotion';\nimport {RemotionRoot} from './Root';\nregisterRoot(RemotionRoot);\n`);
	writeFileSync(path.join(app, 'src/Root.tsx'), root(`import {fateZeroClip} from 'remotion-fatezero';\nconst clip = fateZeroClip(${CLIP});`));
	copyFileSync(FOOTAGE, path.join(app, 'media/car-turn.mp4'));
	// The user's image: flat colours, so its place in the video is easy to check.
	const logo = Buffer.alloc(32 * 32 * 3);
	for (let i = 0; i < 32 * 32; i++) logo.set(i % 32 < 16 ? [255, 0, 255] : [0, 255, 0], i * 3);
	await sharp(logo, {raw: {width: 32, height: 32, channels: 3}}).png().toFile(path.join(app, 'public/logo.png'));
};

const crop = (image: Rgb, left: number, top: number, size: number): Rgb => {
	const data = Buffer.alloc(size * size * 3);
	for (let y = 0; y < size; y++) image.data.copy(data, y * size * 3, ((top + y) * image.width + left) * 3, ((top + y) * image.width + left + size) * 3);
	return {data, width: size, height: size};
};

/** What the composition must show at frame k: the cached clip frame scaled 2× (bottom-right quadrant) and the logo (top-left). */
const checkFrames = async (video: string, publicDir: string, editKey: string) => {
	const logo = await readRgb(path.join(publicDir, 'logo.png'));
	for (let k = 0; k < 4; k++) {
		const frame = await decodeVideoFrame(video, k);
		const clipFrame = await readRgb(await sharp(path.join(publicDir, 'fatezero/clips', editKey, `${String(k).padStart(5, '0')}.png`)).resize(128, 128, {kernel: 'nearest'}).png().toBuffer());
		expect(meanAbsDiff(crop(frame, 64, 64, 64), crop(clipFrame, 64, 64, 64)), `frame ${k}: the edited clip`).toBeLessThan(20);
		// away from the logo's edges (chroma subsampling blurs them)
		expect(meanAbsDiff(crop(frame, 4, 4, 8), crop(logo, 4, 4, 8)), `frame ${k}: the user's logo (magenta half)`).toBeLessThan(12);
		expect(meanAbsDiff(crop(frame, 20, 4, 8), crop(logo, 20, 4, 8)), `frame ${k}: the user's logo (green half)`).toBeLessThan(12);
	}
};

const startStudio = async (port: number): Promise<{child: ChildProcess; base: string}> => {
	const child = spawn('npx', ['--no-install', 'remotion', 'studio', 'src/index.ts', '--port', String(port), '--no-open'], {cwd: app, env: userEnv(), stdio: 'ignore', detached: true});
	const deadline = Date.now() + 120_000;
	while (Date.now() < deadline) {
		try {
			const response = await fetch(`http://localhost:${port}/`);
			if (response.status === 200) {
				const html = await response.text();
				const staticBase = /remotion_staticBase\s*=\s*"([^"]+)"/.exec(html)?.[1];
				if (staticBase) return {child, base: `http://localhost:${port}${staticBase}`};
			}
		} catch {
			// not listening yet
		}
		await new Promise((resolve) => setTimeout(resolve, 500));
	}
	process.kill(-child.pid!, 'SIGKILL');
	throw new Error('Remotion Studio did not come up within 120 s');
};

const stopStudio = (child: ChildProcess) => {
	try {
		process.kill(-child.pid!, 'SIGTERM');
	} catch {
		// already gone
	}
};

/** A port nothing listens on (bound on the wildcard host, so free on every address). */
const freePort = () =>
	new Promise<number>((resolve, reject) => {
		const server = net.createServer();
		server.once('error', reject);
		server.listen(0, () => {
			const {port} = server.address() as AddressInfo;
			server.close(() => resolve(port));
		});
	});

/** 'connected', or why not: the error code (ECONNREFUSED: nothing listens there) or 'timeout'. */
const tryConnect = (host: string, port: number) =>
	new Promise<string>((resolve) => {
		const socket = net.connect({host, port});
		socket.setTimeout(3000);
		socket.once('connect', () => {
			socket.destroy();
			resolve('connected');
		});
		socket.once('timeout', () => {
			socket.destroy();
			resolve('timeout');
		});
		socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
	});

/**
 * A non-loopback address of this machine that a wildcard listener answers on (so that a refusal
 * there means a loopback bind, not a firewall); null when there is none.
 */
const networkAddress = async (): Promise<string | null> => {
	const candidates = Object.values(os.networkInterfaces())
		.flatMap((addresses) => addresses ?? [])
		.filter((a) => !a.internal && !a.address.startsWith('fe80:'))
		.sort((a, b) => (a.family === b.family ? 0 : a.family === 'IPv4' ? -1 : 1));
	for (const candidate of candidates) {
		const control = net.createServer();
		const port = await new Promise<number>((resolve) => control.listen(0, () => resolve((control.address() as AddressInfo).port)));
		const seen = await tryConnect(candidate.address, port);
		await new Promise((resolve) => control.close(resolve));
		if (seen === 'connected') return candidate.address;
	}
	return null;
};

/** The live (not zombie) processes of a process group, from /proc. */
const groupMembers = (pgid: number): number[] =>
	readdirSync('/proc')
		.filter((name) => /^\d+$/.test(name))
		.filter((pid) => {
			try {
				const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
				const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
				return Number(pgrp) === pgid && state !== 'Z';
			} catch {
				return false; // gone meanwhile
			}
		})
		.map(Number);

let tarball: string;
let editKey: string;

beforeAll(async () => {
	// npm pack runs the prepack build: the tarball holds compiled ESM, types and the bin
	const {stdout} = await run('npm', ['pack', '--json', '--pack-destination', work], {cwd: path.resolve('.'), maxBuffer: 64 * 2 ** 20, timeout: 300_000});
	tarball = path.join(work, (JSON.parse(stdout) as {filename: string}[])[0].filename);
	await writeProject();
	await run('npm', ['install', '--no-audit', '--no-fund', `remotion@${REMOTION}`, `@remotion/cli@${REMOTION}`, 'react@19', 'react-dom@19', 'zod@4', tarball], {cwd: app, env: userEnv(), maxBuffer: 64 * 2 ** 20, timeout: 600_000});
}, 900_000);

describe(`a fresh Remotion ${REMOTION} project that installs the packed package`, () => {
	it('the tarball ships compiled ESM, .d.ts for both entries and a bin that runs without tsx', async () => {
		const {stdout} = await run('tar', ['-tzf', tarball]);
		const files = stdout.split('\n');
		for (const file of ['package/dist/plugin/index.js', 'package/dist/plugin/index.d.ts', 'package/dist/plugin/node.js', 'package/dist/plugin/node.d.ts', 'package/dist/plugin/cli/main.js', 'package/bin/fatezero.js']) expect(files).toContain(file);
		expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
		expect(existsSync(path.join(app, 'node_modules/tsx'))).toBe(false);
		// the project's own Remotion, at the version asked for, and no second copy under the package
		for (const name of ['remotion', '@remotion/cli', '@remotion/renderer', '@remotion/bundler']) {
			expect(JSON.parse(readFileSync(path.join(app, 'node_modules', name, 'package.json'), 'utf8')).version, name).toBe(REMOTION);
			expect(existsSync(path.join(app, 'node_modules/remotion-fatezero/node_modules', name)), `second copy of ${name}`).toBe(false);
		}
		const help = await npx(['fatezero', '--help']);
		expect(help.stdout).toContain('fatezero <command>');
		// zod is a peer: one copy, the project's
		expect(existsSync(path.join(app, 'node_modules/remotion-fatezero/node_modules/zod'))).toBe(false);
	});

	it('with no model configured, prerender, render and studio stop with an error that says how to configure one, and write nothing', async () => {
		for (const command of [
			['prerender', 'src/index.ts', 'Edited'],
			['render', 'src/index.ts', 'Edited', 'out/never.mp4'],
			['studio', 'src/index.ts', '--port', '3313'],
		]) {
			const result = await npx(['fatezero', ...command]);
			expect(result.code, command[0]).toBe(1);
			expect(result.stderr, command[0]).toContain('No model is configured');
			expect(result.stderr).toContain('--model DIR');
			expect(result.stderr).toContain('FATEZERO_MODEL');
			expect(result.stderr).toContain('fatezero.config.json');
			expect(result.stderr).toContain('MODEL_NOT_CONFIGURED');
		}
		expect(existsSync(path.join(app, 'cache'))).toBe(false);
		expect(existsSync(path.join(app, 'out'))).toBe(false);
		expect(readdirSync(path.join(app, 'public'))).toEqual(['logo.png']);
	});

	it('npx fatezero prerender publishes into public/fatezero/; a plain npx remotion render shows the edited clip beside the user\'s logo', async () => {
		// the project's config file names the model (here the generated test model, opted in explicitly)
		writeFileSync(path.join(app, 'fatezero.config.json'), JSON.stringify({model: 'generated:tiny'}, null, 2));
		const prerendered = await npx(['fatezero', 'prerender', 'src/index.ts', 'Edited', '--json']);
		expect(prerendered.code, prerendered.stderr.slice(-3000)).toBe(0);
		expect(prerendered.stderr).toMatch(/model\s+generated:tiny\s+\(from fatezero\.config\.json\)/);
		expect(prerendered.stderr).toMatch(/publicDir\s+\S+\/public\s+\(default\)/);
		expect(prerendered.stdout).toContain('GENERATED (noise)');
		const summary = JSON.parse(prerendered.stdout.trim().split('\n').at(-1)!) as {clips: {key: string; generatedModel: boolean}[]};
		editKey = summary.clips[0].key;
		expect(summary.clips[0].generatedModel).toBe(true);
		// heavy data stays in the store; the public dir gets only what the browser reads
		expect(existsSync(path.join(app, 'cache/inversions'))).toBe(true);
		expect(readdirSync(path.join(app, 'public')).sort()).toEqual(['fatezero', 'logo.png']);
		expect(readdirSync(path.join(app, 'public/fatezero')).sort()).toEqual(['clips', 'index', 'sources']);
		const rendered = await npx(['remotion', 'render', 'src/index.ts', 'Edited', 'out/plain.mp4', `--browser-executable=${BROWSER}`, '--log=error']);
		expect(rendered.code, rendered.stderr.slice(-3000)).toBe(0);
		await checkFrames(path.join(app, 'out/plain.mp4'), path.join(app, 'public'), editKey);
	});

	it('npx fatezero render passes Remotion\'s render flags through and gives the same frames', async () => {
		const rendered = await npx(['fatezero', 'render', 'src/index.ts', 'Edited', 'out/fatezero.mp4', '--codec', 'h264', '--crf', '18', '--concurrency', '50%', '--log', 'error', '--scale', '1', '--frames', '0-3', '--timeout', '60000']);
		expect(rendered.code, rendered.stderr.slice(-3000)).toBe(0);
		for (let k = 0; k < 4; k++) {
			const [a, b] = await Promise.all([decodeVideoFrame(path.join(app, 'out/plain.mp4'), k), decodeVideoFrame(path.join(app, 'out/fatezero.mp4'), k)]);
			expect(meanAbsDiff(a, b), `frame ${k}`).toBeLessThan(2);
		}
		await checkFrames(path.join(app, 'out/fatezero.mp4'), path.join(app, 'public'), editKey);
	});

	it('a plain npx remotion studio serves the user\'s logo and the published clip over HTTP', async () => {
		const {child, base} = await startStudio(3311);
		try {
			const logo = await fetch(`${base}/logo.png`);
			expect(Buffer.from(await logo.arrayBuffer()).equals(readFileSync(path.join(app, 'public/logo.png')))).toBe(true);
			const frame = await fetch(`${base}/fatezero/clips/${editKey}/00002.png`);
			expect(frame.headers.get('content-type')).toContain('image/png');
			expect(Buffer.from(await frame.arrayBuffer()).equals(readFileSync(path.join(app, 'public/fatezero/clips', editKey, '00002.png')))).toBe(true);
			const index = readdirSync(path.join(app, 'public/fatezero/index'))[0];
			expect(((await (await fetch(`${base}/fatezero/index/${index}`)).json()) as {editKey: string}).editKey).toBe(editKey);
		} finally {
			stopStudio(child);
		}
	});

	it('npx fatezero studio: Studio on loopback only; its job server computes a new clip, publishes it into public/fatezero/ and Studio serves it; stopping the group frees both ports', async () => {
		const [port, jobPort] = [await freePort(), await freePort()];
		const studioOrigin = `http://localhost:${port}`;
		const jobServer = `http://127.0.0.1:${jobPort}`;
		// the model by flag this time (fatezero.config.json names the same one)
		const child = spawn('npx', ['--no-install', 'fatezero', 'studio', 'src/index.ts', '--model', 'generated:tiny', '--port', String(port), '--job-server-port', String(jobPort)], {
			cwd: app,
			env: userEnv(),
			stdio: ['ignore', 'pipe', 'pipe'],
			detached: true,
		});
		let output = '';
		child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
		child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
		// 'close': every process that holds the pipes (npx, fatezero, Studio) is gone
		const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
		const log = () => `\n--- npx fatezero studio output ---\n${output.slice(-6000)}`;
		const events = new AbortController();
		try {
			// 1. Studio answers on 127.0.0.1 (the page carries the job server's URL) …
			let html = '';
			const deadline = Date.now() + 180_000;
			while (!html.includes('remotion_staticBase') && Date.now() < deadline && child.exitCode === null) {
				try {
					const response = await fetch(`http://127.0.0.1:${port}/`, {signal: AbortSignal.timeout(5000)});
					if (response.status === 200) html = await response.text();
				} catch {
					// not listening yet
				}
				if (!html.includes('remotion_staticBase')) await new Promise((resolve) => setTimeout(resolve, 500));
			}
			expect(html, `Studio did not answer 200 on 127.0.0.1:${port} within 180 s${log()}`).toContain('remotion_staticBase');
			expect(html).toContain(`"REMOTION_FATEZERO_JOB_SERVER":"${jobServer}"`);
			const base = `http://127.0.0.1:${port}${/remotion_staticBase\s*=\s*"([^"]+)"/.exec(html)![1]}`;
			expect(output).toContain(`FateZero job server: ${jobServer}`);
			expect(output).toContain('Remotion Studio listens on 127.0.0.1 only');
			// … and neither it nor the job server on the machine's network address
			const address = await networkAddress();
			if (address) {
				expect(await tryConnect(address, port), `Studio on ${address}:${port}${log()}`).toBe('ECONNREFUSED');
				expect(await tryConnect(address, jobPort), `the job server on ${address}:${jobPort}`).toBe('ECONNREFUSED');
			} else {
				console.warn('no non-loopback address answers on this machine: the network-address check is skipped');
			}

			// 2. As Studio's page does: the event stream first, then POST the clip it shows (a new
			// prompt: a descriptor key nothing has computed yet), both with the page's Origin
			const client = `e2e-${process.pid}`;
			const descriptor = fateZeroClip({...CLIP_INPUT, prompt: 'a blue jeep on a road'});
			const key = descriptorKey(descriptor);
			expect(existsSync(path.join(app, 'public/fatezero/index', `${key}.json`))).toBe(false);
			const stream = await fetch(`${jobServer}/events?client=${client}`, {headers: {Origin: studioOrigin}, signal: events.signal});
			expect(stream.status).toBe(200);
			expect(stream.headers.get('content-type')).toContain('text/event-stream');
			expect(stream.headers.get('access-control-allow-origin')).toBe(studioOrigin);
			const states: StudioJobState[] = [];
			void (async () => {
				let buffer = '';
				const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
				for (let read = await reader.read(); !read.done; read = await reader.read()) {
					buffer += read.value;
					for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
						const lines = buffer.slice(0, end).split('\n');
						buffer = buffer.slice(end + 2);
						const data = lines.find((line) => line.startsWith('data: '));
						if (lines.includes('event: job') && data) states.push(JSON.parse(data.slice('data: '.length)) as StudioJobState);
					}
				}
			})().catch(() => undefined); // aborted at the end
			const posted = await fetch(`${jobServer}/jobs?client=${client}`, {method: 'POST', headers: {Origin: studioOrigin, 'Content-Type': 'application/json'}, body: JSON.stringify(descriptor)});
			const accepted = (await posted.json()) as StudioJobState & {error?: string};
			expect(posted.status, accepted.error).toBe(202);
			expect(posted.headers.get('access-control-allow-origin')).toBe(studioOrigin);
			// the packed package keys the clip as the sources do
			expect(accepted.descriptorKey).toBe(key);
			const finished = () => states.find((s) => s.descriptorKey === key && ['done', 'failed', 'cancelled'].includes(s.status));
			const jobDeadline = Date.now() + 300_000;
			while (!finished() && Date.now() < jobDeadline && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 250));
			expect(finished(), `no final state for job ${key} within 5 min; streamed: ${JSON.stringify(states.slice(-3))}${log()}`).toBeDefined();
			expect(finished()!.status, `${finished()!.error}${log()}`).toBe('done');
			expect(states.some((s) => s.descriptorKey === key && s.status === 'running'), 'progress was streamed').toBe(true);
			const state = (await (await fetch(`${jobServer}/jobs/${key}`, {headers: {Origin: studioOrigin}})).json()) as StudioJobState;
			expect(state).toMatchObject({descriptorKey: key, status: 'done', stage: 'done'});
			const newEditKey = state.editKey!;
			expect(newEditKey).toMatch(/^[0-9a-f]+$/);
			expect(newEditKey).not.toBe(editKey);

			// published into the user's public dir …
			const index = JSON.parse(readFileSync(path.join(app, 'public/fatezero/index', `${key}.json`), 'utf8')) as {editKey: string};
			expect(index.editKey).toBe(newEditKey);
			const clipDir = path.join(app, 'public/fatezero/clips', newEditKey);
			expect(readdirSync(clipDir).sort()).toEqual(['00000.png', '00001.png', '00002.png', '00003.png', 'manifest.json']);
			// … and served by the running Studio, which did not have them when it started
			const frame = await fetch(`${base}/fatezero/clips/${newEditKey}/00000.png`);
			expect(frame.status).toBe(200);
			expect(frame.headers.get('content-type')).toContain('image/png');
			expect(Buffer.from(await frame.arrayBuffer()).equals(readFileSync(path.join(clipDir, '00000.png')))).toBe(true);
			expect(((await (await fetch(`${base}/fatezero/index/${key}.json`)).json()) as {editKey: string}).editKey).toBe(newEditKey);
			expect(output).toContain(`done → clips/${newEditKey}/`);
		} finally {
			events.abort();
			// 3. Stop the whole group as a terminal's Ctrl-C would, and wait until all of it is gone
			try {
				process.kill(-child.pid!, 'SIGTERM');
			} catch {
				// already gone
			}
			const stopped = await Promise.race([closed.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 30_000))]);
			const left = groupMembers(child.pid!);
			if (!stopped || left.length > 0) {
				try {
					process.kill(-child.pid!, 'SIGKILL');
				} catch {
					// gone meanwhile
				}
			}
			expect(stopped, `npx fatezero studio still running 30 s after SIGTERM${log()}`).toBe(true);
			expect(left, 'processes left in the group').toEqual([]);
		}
		expect(output).toContain('Stopping Remotion Studio and the FateZero job server (SIGTERM)');
		expect(await tryConnect('127.0.0.1', port), 'Studio still listening').toBe('ECONNREFUSED');
		expect(await tryConnect('127.0.0.1', jobPort), 'the job server still listening').toBe('ECONNREFUSED');
	}, 600_000);

	it('with a remotion.config.ts that sets another public dir and a webpack alias, the same flows work', async () => {
		renameSync(path.join(app, 'public'), path.join(app, 'assets'));
		rmSync(path.join(app, 'assets/fatezero'), {recursive: true, force: true});
		writeFileSync(
			path.join(app, 'remotion.config.ts'),
			`import path from 'node:path';
import {Config} from '@remotion/cli/config';
Config.setPublicDir('assets');
Config.overrideWebpackConfig((config) => ({
	...config,
	resolve: {...config.resolve, alias: {...(config.resolve?.alias ?? {}), '@clips': path.join(process.cwd(), 'src/clips.ts')}},
}));
`,
		);
		// the composition now imports its clip through the alias: bundling without the override fails
		writeFileSync(path.join(app, 'src/clips.ts'), `import {fateZeroClip} from 'remotion-fatezero';\nexport const clip = fateZeroClip(${CLIP});\n`);
		writeFileSync(path.join(app, 'src/Root.tsx'), root(`import {clip} from '@clips';`));
		const prerendered = await npx(['fatezero', 'prerender', 'src/index.ts', 'Edited']);
		expect(prerendered.code, prerendered.stderr.slice(-3000)).toBe(0);
		expect(prerendered.stderr).toMatch(/publicDir\s+\S+\/assets\s+\(from \S+remotion\.config\.ts\)/);
		expect(existsSync(path.join(app, 'public'))).toBe(false);
		expect(existsSync(path.join(app, 'assets/fatezero/clips', editKey, 'manifest.json'))).toBe(true);
		const plain = await npx(['remotion', 'render', 'src/index.ts', 'Edited', 'out/config-plain.mp4', `--browser-executable=${BROWSER}`, '--log=error']);
		expect(plain.code, plain.stderr.slice(-3000)).toBe(0);
		await checkFrames(path.join(app, 'out/config-plain.mp4'), path.join(app, 'assets'), editKey);
		const ours = await npx(['fatezero', 'render', 'src/index.ts', 'Edited', 'out/config-fatezero.mp4', '--log=error']);
		expect(ours.code, ours.stderr.slice(-3000)).toBe(0);
		await checkFrames(path.join(app, 'out/config-fatezero.mp4'), path.join(app, 'assets'), editKey);
		const {child, base} = await startStudio(3312);
		try {
			expect((await fetch(`${base}/logo.png`)).headers.get('content-type')).toContain('image/png');
			expect((await fetch(`${base}/fatezero/clips/${editKey}/00000.png`)).headers.get('content-type')).toContain('image/png');
		} finally {
			stopStudio(child);
		}
	});
});
