/**
 * How Studio's side of the job server paces itself, in one place.
 * - settleMs: a job is asked for once a clip's props have not changed for this long. Chosen over a
 *   Compute-only button: opening a composition shows its edit without a click (as before), and
 *   typing a prompt (a new descriptor per key stroke) asks for one job, for the final text. The
 *   card's Cancel button stops a start that was not wanted; Retry computes it again.
 * - graceMs: a running job that no composition shows any more is cancelled after this long (a
 *   queued one at once), so undo or a quick switch between compositions keeps it. When the page
 *   itself goes (tab closed or crashed) nothing here runs: the job server cancels the jobs no
 *   other page wants once the page's event stream has been closed for its own grace (15 s, long
 *   enough for a reload to ask again).
 * - pollMs / slowPollMs: polling while the event stream is down / up (events carry every change).
 * - retryMs: after the server was unreachable or busy (429).
 */
export const STUDIO_TIMINGS = {
	settleMs: 1000,
	graceMs: 5000,
	pollMs: 500,
	slowPollMs: 2000,
	retryMs: 3000,
} as const;
