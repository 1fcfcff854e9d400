import {useEffect, useMemo, useState} from 'react';
import {getRemotionEnvironment} from 'remotion';
import type {ClipDescriptor} from '../clip/clip-descriptor.js';
import {descriptorKey} from '../clip/descriptor-key.js';
import {draftClip} from '../clip/draft-clip.js';
import {resolveClip, type ResolvedClip} from './resolve-clip.js';
import {useStudioJob, type StudioJobView} from './use-studio-job.js';

let draftsEnabled = true;

/**
 * Whether Studio computes a draft (DRAFT_SETTINGS: half size, 12 steps) of a missing clip before
 * its final-quality job, and shows it marked "draft" meanwhile. Default true. Renders never use
 * drafts, whatever this says.
 */
export const setFateZeroDrafts = (enabled: boolean): void => {
	draftsEnabled = enabled;
};

export type DraftClipState = {
	/** No draft for this clip (drafts off, not in Studio, or the clip is as cheap as its draft). */
	none: boolean;
	descriptorKey: string | null;
	/** The draft's frames once computed; undefined while looked up; null when missing. */
	resolved: ResolvedClip | null | undefined;
	/** The draft's job while it is computed. */
	job: StudioJobView | null;
};

/** The draft of a clip whose final frames are missing (`descriptor` null: none is missing). Studio only. */
export const useDraftClip = (descriptor: ClipDescriptor | null): DraftClipState => {
	const environment = getRemotionEnvironment();
	const active = descriptor !== null && draftsEnabled && environment.isStudio && !environment.isRendering && !environment.isReadOnlyStudio;
	const draft = useMemo(() => (active && descriptor ? draftClip(descriptor) : null), [active, descriptor]);
	const key = useMemo(() => (draft ? descriptorKey(draft) : null), [draft]);
	const [resolved, setResolved] = useState<{key: string; clip: ResolvedClip | null} | null>(null);
	const [revision, setRevision] = useState(0);

	useEffect(() => {
		if (!draft || !key) return;
		let cancelled = false;
		resolveClip(draft)
			.then((clip) => {
				if (!cancelled) setResolved({key, clip});
			})
			.catch(() => undefined);
		return () => {
			cancelled = true;
		};
	}, [key, revision]);

	const current = resolved && resolved.key === key ? resolved.clip : undefined;
	const job = useStudioJob(draft && current === null ? draft : null, key ?? '', () => setRevision((r) => r + 1));
	if (!draft || !key) return {none: true, descriptorKey: null, resolved: null, job: null};
	return {none: false, descriptorKey: key, resolved: current, job};
};
