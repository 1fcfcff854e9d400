/** How a client (a Studio page) names itself to the job server: `?client=<id>` on POST /jobs and GET /events. */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * How long a client may be without an open event stream before the jobs only it asked for are
 * cancelled. Long enough for a reload of the Studio page (the new page asks for its clips again,
 * after Studio loads and the props settle); short enough that a closed tab does not hold the
 * engine for minutes.
 */
export const DEFAULT_CLIENT_GRACE_MS = 15_000;

type Client = {
	/** Open GET /events streams of this client. */
	streams: number;
	/** Set while it has no open stream: the client is gone when it fires. */
	timer: ReturnType<typeof setTimeout> | null;
};

/**
 * Which clients still want each unfinished job. A client is a Studio page: it sends its id with
 * the job requests and holds an event stream open with it. When the last client that asked for a
 * job has had no open stream for `graceMs` (the tab was closed, reloaded or crashed, and nothing
 * sent DELETE), `onUnwanted(key)` runs (the job server cancels the job). A request without a
 * client id (the CLI, other tools) pins the job: it is never cancelled for want of a client.
 * What it keeps is bounded by the open streams and the requests of the last `graceMs`: a client
 * without a stream is forgotten when its grace ends, and a finished job's wishes with the job.
 */
export class StudioClients {
	private readonly clients = new Map<string, Client>();
	/** Job key → the clients that asked for it (unfinished jobs only). */
	private readonly wanted = new Map<string, Set<string>>();
	/** Unfinished jobs a caller without a client id asked for. */
	private readonly pinned = new Set<string>();

	constructor(
		private readonly graceMs: number,
		private readonly onUnwanted: (key: string) => void,
	) {}

	/** `client` asked for the job `key` (null: a caller without an id; the job is never cancelled for want of clients). */
	want(key: string, client: string | null): void {
		if (client === null) {
			this.pinned.add(key);
			this.wanted.delete(key);
			return;
		}
		if (this.pinned.has(key)) return;
		let clients = this.wanted.get(key);
		if (!clients) this.wanted.set(key, (clients = new Set()));
		clients.add(client);
		// a client that asks before its stream is open (the page opens it after its first request)
		// has the grace period to open one
		if (!this.clients.has(client)) this.startGrace(client, {streams: 0, timer: null});
	}

	/** An event stream of `client` opened; returns the function to call when it closes. */
	connect(client: string): () => void {
		const record = this.clients.get(client) ?? {streams: 0, timer: null};
		this.clients.set(client, record);
		if (record.timer) clearTimeout(record.timer);
		record.timer = null;
		record.streams += 1;
		let open = true;
		return () => {
			if (!open) return;
			open = false;
			record.streams -= 1;
			if (record.streams === 0 && this.clients.get(client) === record) this.startGrace(client, record);
		};
	}

	/** The job `key` finished, failed or was cancelled: asking for it again is a new request. */
	forget(key: string): void {
		this.wanted.delete(key);
		this.pinned.delete(key);
	}

	/** Stops every grace timer (the server is closing). */
	close(): void {
		for (const record of this.clients.values()) if (record.timer) clearTimeout(record.timer);
		this.clients.clear();
		this.wanted.clear();
		this.pinned.clear();
	}

	private startGrace(client: string, record: Client) {
		this.clients.set(client, record);
		record.timer = setTimeout(() => this.expire(client, record), this.graceMs);
		record.timer.unref?.();
	}

	private expire(client: string, record: Client) {
		if (this.clients.get(client) !== record || record.streams > 0) return;
		this.clients.delete(client);
		const unwanted: string[] = [];
		for (const [key, clients] of this.wanted) {
			if (!clients.delete(client) || clients.size > 0) continue;
			this.wanted.delete(key);
			if (!this.pinned.has(key)) unwanted.push(key);
		}
		for (const key of unwanted) this.onUnwanted(key);
	}
}
