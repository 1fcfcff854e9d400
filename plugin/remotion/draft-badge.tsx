import {useVideoConfig} from 'remotion';
import type {StudioJobView} from './use-studio-job.js';

/**
 * The mark on a draft's frames in Studio: "DRAFT", how far the final clip's job is, and Cancel
 * (while it runs) or Retry (once it failed or was cancelled) for that job.
 */
export const DraftBadge: React.FC<{descriptorKey: string; job: StudioJobView | null}> = ({descriptorKey, job}) => {
	const {width, height} = useVideoConfig();
	const unit = Math.max(7, Math.min(width, height) / 30);
	const state = job?.job ?? null;
	const status = state?.status ?? (job?.settling ? 'settling' : 'pending');
	const progress =
		state === null
			? 'final clip: waiting'
			: state.status === 'running'
				? `final clip: ${state.stage} ${state.step}/${state.total}`
				: state.status === 'failed'
					? `final clip failed: ${state.error ?? ''}`
					: `final clip: ${state.status}`;
	const button = {fontSize: unit * 0.8, marginLeft: unit * 0.4, padding: `0 ${unit * 0.4}px`, border: '1px solid #fff', background: 'transparent', color: '#fff', borderRadius: unit * 0.2, cursor: 'pointer'};
	return (
		<div
			data-fatezero-draft={descriptorKey}
			data-status={status}
			style={{position: 'absolute', top: unit * 0.5, left: unit * 0.5, maxWidth: '90%', padding: `${unit * 0.2}px ${unit * 0.5}px`, borderRadius: unit * 0.3, background: 'rgba(200, 60, 20, 0.85)', color: '#fff', fontFamily: 'sans-serif', fontSize: unit * 0.8}}
		>
			<b style={{letterSpacing: unit * 0.1}}>DRAFT</b> <span>{progress}</span>
			{state && (state.status === 'queued' || state.status === 'running') ? (
				<button type="button" data-fatezero-cancel onClick={() => job?.cancel()} style={button}>
					Cancel
				</button>
			) : null}
			{state && (state.status === 'failed' || state.status === 'cancelled') ? (
				<button type="button" data-fatezero-retry onClick={() => job?.retry()} style={button}>
					Retry
				</button>
			) : null}
		</div>
	);
};
