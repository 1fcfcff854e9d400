import {useEffect, useMemo, useState} from 'react';
import {cancelRender, continueRender, delayRender, getRemotionEnvironment, useVideoConfig} from 'remotion';
import type {ClipDescriptor} from '../clip/clip-descriptor.js';
import {descriptorKey} from '../clip/descriptor-key.js';
import {parseClipDescriptor} from '../clip/fatezero-clip.js';
import {isStudioClip, studioClipToDescriptor} from '../clip/studio-clip-schema.js';
import {prerenderCommand} from '../clip/collect-protocol.js';
import {clipFrameUrl, resolveClip, type ResolvedClip} from './resolve-clip.js';
import {useDraftClip} from './use-draft-clip.js';
import {useStudioJob, type StudioJobView} from './use-studio-job.js';

export type FateZeroClipState =
	| {status: 'loading'; descriptorKey: string; descriptor: ClipDescriptor}
	| {
			status: 'missing';
			descriptorKey: string;
			descriptor: ClipDescriptor;
			/** In Studio, the job computing the clip (requested from the job server); null elsewhere. */
			job: StudioJobView | null;
	  }
	| {
			status: 'ready';
			descriptorKey: string;
			descriptor: ClipDescriptor;
			clip: ResolvedClip;
			/**
			 * True when these are the draft's frames (Studio only, while the final clip is computed):
			 * show them marked. `job` is then the final clip's job.
			 */
			draft: boolean;
			job: StudioJobView | null;
			/** URL of clip frame `index` (clamped to the clip), edited or source. */
			frameUrl: (index: number, variant?: 'edited' | 'source') => string;
	  };

// One lookup per descriptor per page: every <FateZeroClip> of a clip shares it.
const lookups = new Map<string, Promise<ResolvedClip | null>>();

/** Forget cached lookups (Studio calls this when a job finishes, so the clip is fetched again). */
export const forgetFateZeroLookups = (key?: string): void => {
	if (key) lookups.delete(key);
	else lookups.clear();
};

/**
 * The cached frames and metadata of a clip, for custom effects. While rendering it holds the frame
 * (delayRender) until the clip is resolved and fails at once on a cache miss with the command to
 * run; in Studio a miss is reported as `status: 'missing'`.
 */
export const useFateZeroClip = (clip: ClipDescriptor | Record<string, unknown>): FateZeroClipState => {
	// the Studio-editable form (studioClipSchema) maps to the same canonical descriptor and key
	const descriptor = useMemo(() => parseClipDescriptor(isStudioClip(clip) ? studioClipToDescriptor(clip) : clip), [JSON.stringify(clip)]);
	const key = useMemo(() => descriptorKey(descriptor), [descriptor]);
	const {id} = useVideoConfig();
	const [resolved, setResolved] = useState<ResolvedClip | null | undefined>(undefined);
	// bumped when Studio's job for a missing clip finishes: look the clip up again
	const [revision, setRevision] = useState(0);
	// which key `resolved` belongs to: right after a props edit it still holds the old clip's answer
	const [resolvedKey, setResolvedKey] = useState<string | null>(null);
	const [handle] = useState(() => delayRender(`Resolving FateZero clip "${descriptor.label ?? descriptor.prompt}"`, {timeoutInMilliseconds: 15_000}));

	useEffect(() => {
		let cancelled = false;
		let released = false;
		const release = () => {
			if (!released) {
				released = true;
				continueRender(handle);
			}
		};
		let lookup = lookups.get(key);
		if (!lookup) {
			lookup = resolveClip(descriptor);
			lookups.set(key, lookup);
		}
		lookup
			.then((result) => {
				if (cancelled) return;
				if (result === null) {
					lookups.delete(key); // a later job may fill it
					if (getRemotionEnvironment().isRendering) {
						cancelRender(new Error(`FateZero cache miss: clip "${descriptor.label ?? descriptor.prompt}" (descriptor key ${key.slice(0, 12)}) is not in the cache. Run \`${prerenderCommand(id)}\`.`));
						return;
					}
				}
				setResolved(result);
				setResolvedKey(key);
				release();
			})
			.catch((error: unknown) => cancelRender(error));
		return () => {
			cancelled = true;
			release();
		};
	}, [key, revision]);
	const finalMissing = resolved === null && resolvedKey === key;
	// in Studio a cheap draft comes first; the final job is asked for once the draft is there
	const draft = useDraftClip(finalMissing ? descriptor : null);
	const job = useStudioJob(finalMissing && (draft.none || Boolean(draft.resolved)) ? descriptor : null, key, () => {
		forgetFateZeroLookups(key);
		setRevision((r) => r + 1);
	});

	const ready = (clip: ResolvedClip, isDraft: boolean): FateZeroClipState => ({
		status: 'ready',
		descriptorKey: key,
		descriptor,
		clip,
		draft: isDraft,
		job: isDraft ? job : null,
		frameUrl: (index, variant = 'edited') => clipFrameUrl(clip, Math.min(Math.max(Math.floor(index), 0), clip.frameCount - 1), variant),
	});
	if (resolved === undefined) return {status: 'loading', descriptorKey: key, descriptor};
	if (resolved === null && draft.resolved) return ready(draft.resolved, true);
	if (resolved === null) return {status: 'missing', descriptorKey: key, descriptor, job: draft.job ?? job};
	return ready(resolved, false);
};
