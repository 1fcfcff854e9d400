import http, {type IncomingMessage, type ServerResponse} from 'node:http';
import path from 'node:path';
import type {ClipDescriptor} from '../clip/clip-descriptor.js';
import {parseClipDescriptor} from '../clip/fatezero-clip.js';
import {FateZeroError} from '../errors/fatezero-error.js';
import {isCacheKey} from '../frame-cache/cache-layout.js';
import type {ExecutionProviderName} from '../runtime/session-spec.js';
import {checkJobRequest} from './job-request-checks.js';
import {checkRequestOrigin, corsHeaders, normalizeOrigin} from './origin-policy.js';
import {DEFAULT_JOB_SERVER_PORT, type StudioJobState} from '../clip/studio-job-state.js';
import {CLIENT_ID_PATTERN, DEFAULT_CLIENT_GRACE_MS, StudioClients} from './studio-clients.js';
import {previewBytes, StudioJobs, TooManyJobsError, type StudioJobsOptions} from './studio-jobs.js';
import type {StudioCancelReason} from '../clip/studio-job-state.js';

export type JobServerOptions = {
	/** Port on 127.0.0.1. Default 3990; 0 picks a free one (see `JobServer.port`). */
	port?: number;
	cacheDir: string;
	/** Source paths resolve against it, and sources must lie inside it. */
	projectRoot: string;
	/** Origins allowed to call the server, e.g. studioOrigins(3000). Requests with another Origin get 403. */
	allowedOrigins: readonly string[];
	/**
	 * Model folders a descriptor may name (besides null, the configured one). Default: the folder
	 * in FATEZERO_MODEL, if set.
	 */
	allowedModels?: readonly string[];
	executionProvider?: ExecutionProviderName;
	/** The rest of the job queue's settings: model, public dir (clips are published into its fatezero/), compute type, threads. */
	queueOptions?: StudioJobsOptions['queueOptions'];
	/** Builds the job queue (tests); default a JobQueue. */
	createQueue?: StudioJobsOptions['createQueue'];
	/** Jobs waiting to start at most; POSTing one more answers 429. Default 16. */
	maxQueuedJobs?: number;
	/** Finished jobs remembered for GET /jobs; older ones are forgotten. Default 64. */
	maxFinishedJobs?: number;
	/**
	 * How long a client (a Studio page, `?client=<id>`) may be without an open GET /events stream
	 * before the unfinished jobs only it asked for are cancelled as unused. Default 15 s.
	 */
	clientGraceMs?: number;
};

export type JobServer = {
	/** http://127.0.0.1:<port> */
	url: string;
	port: number;
	jobs: StudioJobs;
	/** Replaces the allowed origins (e.g. once Studio's port is known). */
	setAllowedOrigins(origins: readonly string[]): void;
	/** Stops accepting requests, cancels the jobs and releases the engines. */
	close(): Promise<void>;
};

const MAX_BODY_BYTES = 1 << 20;

const ROUTES = 'POST /jobs[?client=<id>], DELETE /jobs/<descriptorKey>, GET /jobs, GET /jobs/<descriptorKey>, GET /jobs/<descriptorKey>/preview.png, GET /events[?client=<id>]';

class HttpError extends Error {
	constructor(
		readonly status: number,
		message: string,
	) {
		super(message);
	}
}

// A client that sends more than this after the limit is cut off without an answer: reading on
// costs the server nothing but bandwidth, up to here.
const MAX_DRAINED_BYTES = 256 << 20;

const tooLarge = (size: number | string) =>
	new HttpError(413, `The request body is ${size} bytes, larger than the limit of ${MAX_BODY_BYTES} bytes; a clip descriptor is a small JSON object.`);

/**
 * The body as text, at most MAX_BODY_BYTES. A larger body is read to its end and dropped before
 * the 413 goes out: a client still sending when the server closes the connection sees a reset,
 * not the answer.
 */
const readBody = (request: IncomingMessage): Promise<string> =>
	new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		let size = 0;
		const declared = Number(request.headers['content-length'] ?? 0);
		if (declared > MAX_DRAINED_BYTES) {
			reject(Object.assign(tooLarge(declared), {closeConnection: true}));
			return;
		}
		request.on('data', (chunk: Buffer) => {
			size += chunk.length;
			if (size <= MAX_BODY_BYTES) chunks.push(chunk);
			else if (size > MAX_DRAINED_BYTES) {
				reject(Object.assign(tooLarge(`over ${MAX_DRAINED_BYTES}`), {closeConnection: true}));
				request.destroy();
			}
		});
		request.on('end', () => (size > MAX_BODY_BYTES ? reject(tooLarge(size)) : resolve(Buffer.concat(chunks).toString('utf8'))));
		request.on('error', reject);
	});

/** The `client` query parameter: null when absent; 400 when it is not an id. */
const clientOf = (url: URL): string | null => {
	const client = url.searchParams.get('client');
	if (client === null) return null;
	if (!CLIENT_ID_PATTERN.test(client)) {
		throw new HttpError(400, `client ${JSON.stringify(client.slice(0, 80))} is not a client id: 1 to 64 letters, digits, "-" or "_" (a Studio page sends a random one). Leave it out when nothing should cancel the job for you.`);
	}
	return client;
};

const sendJson = (response: ServerResponse, status: number, body: unknown, headers: Record<string, string>) => {
	response.writeHead(status, {...headers, 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store'});
	response.end(`${JSON.stringify(body)}\n`);
};

/**
 * The Studio job server (design §1 flow 2): a loopback HTTP server through which <FateZeroClip>
 * in Studio asks for a missing clip and follows its progress.
 *
 *   POST /jobs                     body: a clip descriptor → 202 its StudioJobState
 *                                  ?client=<id>: the page asking (see GET /events)
 *                                  400 invalid JSON / descriptor / missing source / client id,
 *                                  403 source outside the project or unconfigured model
 *                                  413 body over 1 MiB, 429 too many jobs waiting
 *   DELETE /jobs/<descriptorKey>   200 its state, now 'cancelled' (a queued job never starts, a
 *                                  running one stops at its next step); ?reason=unused when the
 *                                  page no longer shows the clip. 404 unknown
 *   GET  /jobs                     200 every job's state (the latest finished ones, see maxFinishedJobs)
 *   GET  /jobs/<descriptorKey>     200 its state, 404 unknown
 *   GET  /jobs/<key>/preview.png   200 the preview image (the engine's latest decoded frame, else
 *                                  source frame 0), 404 none yet
 *   GET  /events                   text/event-stream: every state change as `event: job`.
 *                                  ?client=<id>: the page is there while the stream is open. A
 *                                  queued or running job is cancelled (as 'unused') once every
 *                                  client that asked for it has had no open stream for
 *                                  clientGraceMs (its tab was closed or crashed; a reload asks
 *                                  again in time). A job anyone asked for without a client id
 *                                  (the CLI, other tools) is never cancelled that way.
 *   OPTIONS *                      CORS preflight (204) for allowed origins
 *
 * Every route answers 403 to a request whose Origin is not allowed or whose Host is not loopback.
 */
export const startJobServer = async (options: JobServerOptions): Promise<JobServer> => {
	let allowed = new Set(options.allowedOrigins.map(normalizeOrigin));
	const allowedModels = options.allowedModels ?? (process.env.FATEZERO_MODEL ? [process.env.FATEZERO_MODEL] : []);
	const projectRoot = path.resolve(options.projectRoot);
	let port = 0;
	const base = () => `http://127.0.0.1:${port}`;
	const jobs = new StudioJobs({
		cacheDir: options.cacheDir,
		projectRoot,
		executionProvider: options.executionProvider,
		queueOptions: options.queueOptions,
		createQueue: options.createQueue,
		maxQueuedJobs: options.maxQueuedJobs,
		maxFinishedJobs: options.maxFinishedJobs,
		previewUrl: (key) => `${base()}/jobs/${key}/preview.png`,
	});
	const streams = new Set<ServerResponse>();
	const clients = new StudioClients(options.clientGraceMs ?? DEFAULT_CLIENT_GRACE_MS, (key) => jobs.cancel(key, 'unused'));

	const handle = async (request: IncomingMessage, response: ServerResponse) => {
		const verdict = checkRequestOrigin(request, allowed, port);
		if (!verdict.ok) {
			sendJson(response, verdict.status, {error: verdict.message}, {});
			return;
		}
		const cors = corsHeaders(verdict.origin);
		const url = new URL(request.url ?? '/', base());
		const parts = url.pathname.split('/').filter(Boolean);
		try {
			if (request.method === 'OPTIONS') {
				response.writeHead(204, cors);
				response.end();
				return;
			}
			if (parts[0] === 'jobs' && parts.length === 1 && request.method === 'POST') {
				const client = clientOf(url);
				const text = await readBody(request);
				let body: unknown;
				try {
					body = JSON.parse(text);
				} catch (error) {
					throw new HttpError(400, `The request body is not valid JSON (${(error as Error).message}). POST a clip descriptor such as {"source": "footage/clip.mp4", "sourcePrompt": "…", "prompt": "…"}.`);
				}
				let descriptor: ClipDescriptor;
				try {
					descriptor = parseClipDescriptor(body, 'the POST /jobs body');
				} catch (error) {
					throw new HttpError(400, (error as Error).message);
				}
				const check = checkJobRequest(descriptor, {projectRoot, allowedModels});
				if (!check.ok) throw new HttpError(check.status, check.message);
				try {
					const state = jobs.submit(descriptor, check.sourcePath);
					clients.want(state.descriptorKey, client);
					sendJson(response, 202, state, cors);
				} catch (error) {
					if (error instanceof TooManyJobsError) throw new HttpError(429, error.message);
					throw error;
				}
				return;
			}
			if (parts[0] === 'jobs' && parts.length === 2 && request.method === 'DELETE') {
				const key = parts[1];
				const reason: StudioCancelReason = url.searchParams.get('reason') === 'unused' ? 'unused' : 'user';
				const state = isCacheKey(key) ? jobs.cancel(key, reason) : null;
				if (!state) throw new HttpError(404, `No job for descriptor key ${JSON.stringify(key)} on this server; nothing to cancel.`);
				sendJson(response, 200, state, cors);
				return;
			}
			if (request.method !== 'GET' && request.method !== 'HEAD') {
				throw new HttpError(405, `${request.method} ${url.pathname} is not supported. Routes: ${ROUTES}.`);
			}
			if (parts[0] === 'jobs' && parts.length === 1) {
				sendJson(response, 200, jobs.list(), cors);
				return;
			}
			if (parts[0] === 'jobs' && (parts.length === 2 || (parts.length === 3 && parts[2] === 'preview.png'))) {
				const key = parts[1];
				const state = isCacheKey(key) ? jobs.get(key) : null;
				if (!state) throw new HttpError(404, `No job for descriptor key ${JSON.stringify(key)} on this server. POST the clip descriptor to /jobs first.`);
				if (parts.length === 2) {
					sendJson(response, 200, state, cors);
					return;
				}
				const preview = jobs.preview(key);
				if (!preview) throw new HttpError(404, `Job ${key} has no preview image yet (it appears once the source is imported).`);
				response.writeHead(200, {...cors, 'Content-Type': 'image/png', 'Cache-Control': 'no-cache'});
				response.end(previewBytes(preview));
				return;
			}
			if (parts[0] === 'events' && parts.length === 1) {
				const client = clientOf(url);
				response.writeHead(200, {...cors, 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive'});
				// headers go out with the first bytes: send some now, not with the first job event
				response.write('retry: 2000\n\n');
				for (const state of jobs.list()) response.write(`event: job\ndata: ${JSON.stringify(state)}\n\n`);
				streams.add(response);
				const release = client === null ? () => undefined : clients.connect(client);
				response.on('close', () => {
					streams.delete(response);
					release();
				});
				return;
			}
			throw new HttpError(404, `${url.pathname} is not a route of the FateZero job server. Routes: ${ROUTES}.`);
		} catch (error) {
			if (error instanceof HttpError) sendJson(response, error.status, {error: error.message}, {...cors, ...((error as {closeConnection?: boolean}).closeConnection ? {Connection: 'close'} : {})});
			else sendJson(response, 500, {error: `Unexpected error in the FateZero job server: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`}, cors);
		}
	};

	const unsubscribe = jobs.subscribe((state: StudioJobState) => {
		if (state.status === 'done' || state.status === 'failed' || state.status === 'cancelled') clients.forget(state.descriptorKey);
		for (const stream of streams) stream.write(`event: job\ndata: ${JSON.stringify(state)}\n\n`);
	});
	const server = http.createServer((request, response) => void handle(request, response));
	// SSE clients keep a connection open; a comment every 15 s keeps proxies and idle timers quiet
	const keepAlive = setInterval(() => {
		for (const stream of streams) stream.write(': keep-alive\n\n');
	}, 15_000);
	keepAlive.unref();

	const wanted = options.port ?? DEFAULT_JOB_SERVER_PORT;
	try {
		await new Promise<void>((resolve, reject) => {
			server.once('error', (error: NodeJS.ErrnoException) => {
				reject(
					error.code === 'EADDRINUSE'
						? new FateZeroError('INVALID_OPTION', `The FateZero job server cannot listen on 127.0.0.1:${wanted}: the port is in use. Pick another with --job-server-port (the Studio page learns it automatically).`)
						: error,
				);
			});
			server.listen(wanted, '127.0.0.1', () => resolve());
		});
	} catch (error) {
		clearInterval(keepAlive);
		unsubscribe();
		clients.close();
		await jobs.close();
		throw error;
	}
	port = (server.address() as {port: number}).port;

	return {
		get url() {
			return base();
		},
		port,
		jobs,
		setAllowedOrigins(origins) {
			allowed = new Set(origins.map(normalizeOrigin));
		},
		async close() {
			clearInterval(keepAlive);
			unsubscribe();
			clients.close();
			for (const stream of streams) stream.end();
			streams.clear();
			const closed = new Promise<void>((resolve) => server.close(() => resolve()));
			server.closeAllConnections();
			await jobs.close();
			await closed;
		},
	};
};
