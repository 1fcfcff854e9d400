import type {CSSProperties} from 'react';
import {AbsoluteFill, useVideoConfig} from 'remotion';
import type {ClipDescriptor} from '../clip/clip-descriptor.js';
import type {StudioJobStage} from '../clip/studio-job-state.js';
import type {StudioJobView} from './use-studio-job.js';

const STAGE_NAMES: Record<StudioJobStage, string> = {
	queued: 'Queued',
	import: 'Importing the source',
	load: 'Loading the model',
	invert: 'Inverting (DDIM)',
	edit: 'Editing',
	decode: 'Decoding frames',
	publish: 'Publishing to the cache',
	wait: 'Waiting for another process',
	done: 'Done',
};

const formatEta = (seconds: number | null): string | null => {
	if (seconds === null || !Number.isFinite(seconds)) return null;
	if (seconds < 1) return '< 1 s';
	if (seconds < 90) return `${Math.round(seconds)} s`;
	return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
};

export type StudioProgressCardProps = {
	descriptor: ClipDescriptor;
	descriptorKey: string;
	/** The job's progress (useStudioJob); null outside Studio. */
	job: StudioJobView | null;
	className?: string;
	style?: CSSProperties;
};

const buttonStyle = (unit: number): CSSProperties => ({
	fontSize: unit * 0.75,
	padding: `${unit * 0.25}px ${unit * 0.8}px`,
	borderRadius: unit * 0.3,
	border: '1px solid #6aa6ff',
	background: '#1f2a3a',
	color: '#e6e6e6',
	cursor: 'pointer',
});

/**
 * What <FateZeroClip> shows in Studio while its clip is computed: the stage, step i/N, the ETA of
 * the stage and the preview image (the engine's latest decoded frame, or frame 0 of the imported
 * source), with Cancel while the job runs and Retry once it failed or was cancelled. Outside
 * Studio it only says the clip is not cached and how to compute it.
 */
export const StudioProgressCard: React.FC<StudioProgressCardProps> = ({descriptor, descriptorKey, job, className, style}) => {
	const {width, height} = useVideoConfig();
	// compositions range from thumbnails to 4K: size the text to the frame
	const unit = Math.max(7, Math.min(width, height) / 26);
	const state = job?.job ?? null;
	const name = descriptor.label ?? descriptor.prompt;
	let headline: string;
	let detail: string | null = null;
	if (job === null) {
		headline = 'Not cached yet';
		detail = 'Run "npx fatezero prerender <entry> <composition>", or open this composition in "npx fatezero studio".';
	} else if (state === null && job.settling) {
		headline = 'Waiting for the props to settle…';
		detail = 'The job starts once the clip\'s props stay unchanged for a second.';
	} else if (state === null) {
		headline = job.problem ? 'Waiting for the job server' : 'Asking the job server…';
	} else if (state.status === 'cancelled') {
		headline = 'Cancelled';
		detail = state.cancelledBy === 'unused' ? 'No open composition showed the clip any more.' : 'Compute it again with Retry.';
	} else if (state.status === 'done') {
		headline = 'Done: loading the edited frames…';
		detail = 'If this stays, Studio does not serve the cache: its public dir must be the FateZero cache dir ("npx fatezero studio" sets it).';
	} else if (state.status === 'failed') {
		headline = 'Failed';
		detail = 'Fix the clip (its props or its source), then Retry.';
	} else {
		headline = STAGE_NAMES[state.stage];
		const eta = formatEta(state.etaSeconds);
		detail = [`step ${state.step}/${state.total}`, eta ? `ETA ${eta}` : null].filter(Boolean).join(' · ');
	}
	const fraction = state && state.total > 0 ? Math.min(1, state.step / state.total) : 0;
	const unfinished = state !== null && (state.status === 'queued' || state.status === 'running');
	const retryable = job !== null && !job.settling && (state === null ? job.problem !== null : state.status === 'failed' || state.status === 'cancelled');
	const previewSrc = state?.previewUrl ? `${state.previewUrl}?v=${state.previewVersion ?? 0}` : null;
	return (
		<AbsoluteFill
			className={className}
			data-fatezero-card={descriptorKey}
			data-status={state?.status ?? (job?.problem ? 'problem' : 'pending')}
			data-stage={state?.stage ?? ''}
			data-preview-version={state?.previewVersion ?? 0}
			data-preview-stage={state?.previewStage ?? ''}
			style={{background: '#15171c', color: '#e6e6e6', fontFamily: 'sans-serif', fontSize: unit, padding: unit, gap: unit * 0.5, justifyContent: 'center', alignItems: 'center', textAlign: 'center', ...style}}
		>
			<div style={{opacity: 0.7, fontSize: unit * 0.8}}>FateZero · {name}</div>
			{previewSrc ? (
				// a plain <img>: Remotion's <Img> would hold the frame (delayRender) for a mere preview
				<img src={previewSrc} alt="preview" data-fatezero-preview style={{maxWidth: '60%', maxHeight: '45%', objectFit: 'contain', borderRadius: unit * 0.3, opacity: 0.85}} />
			) : null}
			<div data-fatezero-stage style={{fontWeight: 600}}>{headline}</div>
			{state && state.status !== 'done' && state.status !== 'failed' ? (
				<div style={{width: '70%', height: unit * 0.35, background: '#333', borderRadius: unit}}>
					<div style={{width: `${fraction * 100}%`, height: '100%', background: '#6aa6ff', borderRadius: unit}} />
				</div>
			) : null}
			{detail ? <div data-fatezero-detail style={{fontSize: unit * 0.8}}>{detail}</div> : null}
			{state?.warnings?.length ? (
				<div data-fatezero-warnings style={{fontSize: unit * 0.65, color: '#ffd27a', maxWidth: '90%'}}>
					{state.warnings.map((warning) => (
						<div key={warning}>⚠ {warning}</div>
					))}
				</div>
			) : null}
			{job?.problem ? (
				<div data-fatezero-error style={{fontSize: unit * 0.7, color: '#ff9c8a', maxWidth: '90%'}}>
					{job.problem}
				</div>
			) : null}
			{unfinished ? (
				<button type="button" data-fatezero-cancel onClick={() => job?.cancel()} style={buttonStyle(unit)}>
					Cancel
				</button>
			) : null}
			{retryable ? (
				<button type="button" data-fatezero-retry onClick={() => job?.retry()} style={buttonStyle(unit)}>
					Retry
				</button>
			) : null}
		</AbsoluteFill>
	);
};
