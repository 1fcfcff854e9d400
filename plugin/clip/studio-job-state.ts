// The job server's wire format. Browser-safe on purpose (no imports at all): the Studio side
// (plugin/remotion/use-studio-job.ts) imports these types from here.

/** Stages a clip job reports (JobProgress['stage']), plus 'queued' before it starts. */
export type StudioJobStage = 'queued' | 'import' | 'load' | 'invert' | 'edit' | 'decode' | 'publish' | 'wait' | 'done';

/** 'cancelled': by DELETE /jobs/<key>, before it finished; asking again (POST) runs it again. */
export type StudioJobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

/**
 * Who cancelled a job: 'user' (the card's Cancel button, or any DELETE) or 'unused' (the page
 * no longer shows the clip: a superseded prompt). A page still showing a clip asks again for a
 * job cancelled as 'unused' by another tab, never for one a user cancelled.
 */
export type StudioCancelReason = 'user' | 'unused';

/** What `GET /jobs/<descriptorKey>` answers, and what `GET /events` streams (one per change). */
export type StudioJobState = {
	descriptorKey: string;
	status: StudioJobStatus;
	stage: StudioJobStage;
	/** Progress in the current stage: step of total. */
	step: number;
	total: number;
	/** Seconds left in the current stage; null before a pace exists. */
	etaSeconds: number | null;
	/** The clip's label (or the start of its prompt), for people; at most MAX_LABEL_CHARS. */
	label: string;
	/**
	 * An image of the clip while it is computed: frame 0 of the imported source, once the import
	 * is done (served by the job server itself, so it works whatever Studio's public dir is).
	 */
	previewUrl?: string;
	/** The edited clip's entry (`clips/<editKey>/`), once done. */
	editKey?: string;
	/** Why the job failed: the engine's message, naming the option and what to do (at most MAX_ERROR_CHARS). */
	error?: string;
	/** The engine's warnings for the clip (a prompt cut at 77 tokens, blend or reweight words not in a prompt). */
	warnings?: string[];
	/** Set with status 'cancelled'. */
	cancelledBy?: StudioCancelReason;
	/**
	 * Bumped each time the preview image changes (the URL stays the same; the page appends it as
	 * `?v=` so the browser fetches the new image).
	 */
	previewVersion?: number;
	/** Which stage made the preview: the source frame ('source'), or a decoded x0 prediction of inversion or editing. */
	previewStage?: 'source' | 'invert' | 'edit';
	/** ISO 8601 time of the last change. */
	updatedAt: string;
};

/** The error body of every non-2xx answer. */
export type StudioJobServerError = {error: string};

/** The job server's address when nothing else is configured (`fatezero studio --job-server-port`). */
export const DEFAULT_JOB_SERVER_PORT = 3990;

/**
 * The Studio environment variable through which `fatezero studio` tells the browser side where its
 * job server listens (Remotion passes REMOTION_* variables into the Studio page).
 */
export const JOB_SERVER_ENV = 'REMOTION_FATEZERO_JOB_SERVER';

/** Labels in job states (and so in every SSE event) are cut to this many characters. */
export const MAX_LABEL_CHARS = 80;

/** Error messages in job states are cut to this many characters. */
export const MAX_ERROR_CHARS = 4000;
