import {staticFile} from 'remotion';
import type {ClipDescriptor} from '../clip/clip-descriptor.js';
import {descriptorKey} from '../clip/descriptor-key.js';

/** What a composition needs to show a cached clip: where its frames are and how many at what rate. */
export type ResolvedClip = {
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

/**
 * descriptor key → cache/index/<key>.json → cache/clips/<editKey>/manifest.json, through the public
 * dir (the cache). null when the clip was never computed (a cache miss).
 */
export const resolveClip = async (descriptor: ClipDescriptor, signal?: AbortSignal): Promise<ResolvedClip | null> => {
	const key = descriptorKey(descriptor);
	const index = await fetchJson(staticFile(`index/${key}.json`), signal);
	if (!index || typeof index.editKey !== 'string') return null;
	const manifest = await fetchJson(staticFile(`clips/${index.editKey}/manifest.json`), signal);
	if (!manifest || typeof manifest.frameCount !== 'number') return null;
	return {
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
	const name = `${String(index).padStart(5, '0')}.png`;
	return staticFile(variant === 'edited' ? `clips/${clip.editKey}/${name}` : `sources/${clip.sourceKey}/frames/${name}`);
};
