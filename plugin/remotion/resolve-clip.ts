import {staticFile} from 'remotion';
import type {ClipDescriptor} from '../clip/clip-descriptor.js';
import {descriptorKey} from '../clip/descriptor-key.js';
import {FRAME_BASE_URL_ENV, frameFileName, PUBLIC_SUBFOLDER, publicClipPath, publicIndexPath, publicSourceFramePath} from '../clip/public-layout.js';

/** What a composition needs to show a cached clip: where its frames are and how many at what rate. */
export type ResolvedClip = {
	/** The folder URL every file of this clip is read from (the public fatezero/ folder, or a frame base URL). */
	baseUrl: string | null;
	descriptorKey: string;
	editKey: string;
	sourceKey: string;
	frameCount: number;
	fps: number;
	width: number;
	height: number;
};

const fetchJson = async (url: string, signal?: AbortSignal): Promise<Record<string, unknown> | null> => {
	const response = await fetch(url, {signal, cache: 'no-store'});
	// Studio answers unknown public paths with its HTML page (200): only JSON counts
	if (!response.ok || !(response.headers.get('content-type') ?? '').includes('json')) return null;
	try {
		return (await response.json()) as Record<string, unknown>;
	} catch {
		return null;
	}
};

let frameBaseUrlOverride: string | null = null;

/**
 * Reads every clip's frames from `url` (a copy of the public `fatezero/` folder, e.g. on a CDN or
 * a bucket) instead of the public dir: for bundles deployed to Lambda or Cloud Run. Call it in
 * your Root; a clip's own `frameBaseUrl` wins. The same can be set without code through the
 * REMOTION_FATEZERO_FRAME_BASE_URL variable (Remotion passes REMOTION_* variables to the page).
 */
export const setFateZeroFrameBaseUrl = (url: string | null): void => {
	frameBaseUrlOverride = url === null ? null : url.replace(/\/+$/, '');
};

const envFrameBaseUrl = (): string | null => {
	const value = typeof process !== 'undefined' && process.env ? process.env[FRAME_BASE_URL_ENV] : undefined;
	return value ? value.replace(/\/+$/, '') : null;
};

/** Where a clip's files are read from: its own frameBaseUrl, the page-wide one, else null (the public dir). */
export const clipBaseUrl = (descriptor: ClipDescriptor): string | null => descriptor.frameBaseUrl ?? frameBaseUrlOverride ?? envFrameBaseUrl();

const fileUrl = (baseUrl: string | null, relative: string): string => (baseUrl ? `${baseUrl}/${relative}` : staticFile(`${PUBLIC_SUBFOLDER}/${relative}`));

/**
 * descriptor key → fatezero/index/<key>.json → fatezero/clips/<editKey>/manifest.json, in the public
 * dir (or under the frame base URL). null when the clip was never pre-rendered (a cache miss).
 */
export const resolveClip = async (descriptor: ClipDescriptor, signal?: AbortSignal): Promise<ResolvedClip | null> => {
	const key = descriptorKey(descriptor);
	const baseUrl = clipBaseUrl(descriptor);
	const index = await fetchJson(fileUrl(baseUrl, publicIndexPath(key)), signal);
	if (!index || typeof index.editKey !== 'string') return null;
	const manifest = await fetchJson(fileUrl(baseUrl, publicClipPath(index.editKey, 'manifest.json')), signal);
	if (!manifest || typeof manifest.frameCount !== 'number') return null;
	return {
		baseUrl,
		descriptorKey: key,
		editKey: index.editKey,
		sourceKey: String(index.sourceKey),
		frameCount: manifest.frameCount,
		fps: Number(manifest.fps),
		width: Number(manifest.width),
		height: Number(manifest.height),
	};
};

/** URL of frame `index` (0-based) of a resolved clip: the edited frames, or the imported source frames. */
export const clipFrameUrl = (clip: ResolvedClip, index: number, variant: 'edited' | 'source'): string => {
	const name = frameFileName(index);
	return fileUrl(clip.baseUrl, variant === 'edited' ? publicClipPath(clip.editKey, name) : publicSourceFramePath(clip.sourceKey, name));
};
