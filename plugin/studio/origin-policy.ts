import type {IncomingMessage} from 'node:http';
import {FateZeroError} from '../errors/fatezero-error.js';

/** The origins a Studio on `port` is opened from (Studio prints localhost; 127.0.0.1 and [::1] reach it too). */
export const studioOrigins = (port: number): string[] => [`http://localhost:${port}`, `http://127.0.0.1:${port}`, `http://[::1]:${port}`];

/** Lower-cased, without a trailing slash: how browsers write an Origin header. */
export const normalizeOrigin = (origin: string): string => {
	let url: URL;
	try {
		url = new URL(origin);
	} catch {
		throw new FateZeroError('INVALID_OPTION', `Allowed origin ${JSON.stringify(origin)} is not a URL. Write it as scheme://host:port, e.g. http://localhost:3000.`);
	}
	if (url.pathname !== '/' || url.search || url.hash) {
		throw new FateZeroError('INVALID_OPTION', `Allowed origin ${JSON.stringify(origin)} has a path; an origin is only scheme://host:port, e.g. http://localhost:3000.`);
	}
	return url.origin.toLowerCase();
};

export type OriginVerdict = {ok: true; origin: string | null} | {ok: false; status: 403; message: string};

/**
 * Who may talk to the job server. It runs engine jobs on this machine, so a web page the user
 * happens to visit must not be able to start them:
 * - a request with an Origin header (every cross-origin fetch and every browser POST sends one)
 *   must come from an allowed origin (the Studio's);
 * - the Host header must name the loopback address, which defeats DNS rebinding (a hostile page
 *   whose own name resolves to 127.0.0.1 is "same-origin" with us and may send no Origin on GET);
 * - requests without Origin (curl, the CLI, an <img> of the preview) are allowed: they come from
 *   programs the user runs or only read a picture.
 */
export const checkRequestOrigin = (request: IncomingMessage, allowed: ReadonlySet<string>, port: number): OriginVerdict => {
	const host = (request.headers.host ?? '').toLowerCase();
	const hosts = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
	if (!hosts.includes(host)) {
		return {ok: false, status: 403, message: `Host ${JSON.stringify(request.headers.host ?? '')} is not allowed: the FateZero job server only answers requests addressed to ${hosts.join(', ')}.`};
	}
	const origin = request.headers.origin;
	if (origin === undefined) return {ok: true, origin: null};
	const normalized = origin.toLowerCase();
	if (allowed.has(normalized)) return {ok: true, origin: normalized};
	const list = [...allowed];
	return {
		ok: false,
		status: 403,
		message: `Origin ${JSON.stringify(origin)} is not allowed to use the FateZero job server. Allowed: ${list.length ? list.join(', ') : '(none)'}. Open Studio from one of these, or add the origin with "fatezero studio --allow-origin ${origin}".`,
	};
};

/** CORS headers for an allowed origin (none for requests without Origin). */
export const corsHeaders = (origin: string | null): Record<string, string> =>
	origin === null
		? {}
		: {
				'Access-Control-Allow-Origin': origin,
				'Access-Control-Allow-Methods': 'GET, POST, DELETE, OPTIONS',
				'Access-Control-Allow-Headers': 'Content-Type',
				// Chrome's Private Network Access preflights ask this of loopback servers
				'Access-Control-Allow-Private-Network': 'true',
				'Access-Control-Max-Age': '600',
				Vary: 'Origin',
			};
