import type {JobProgress} from '../jobs/job-progress.js';

const formatSeconds = (seconds: number | null) => {
	if (seconds === null) return '';
	if (seconds < 60) return `ETA ${Math.round(seconds)}s`;
	return `ETA ${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
};

/**
 * Progress bars for people: one line per job, redrawn in place on a TTY; on other streams only
 * stage changes are written, so logs stay readable.
 */
export const createProgressDisplay = (stream: NodeJS.WriteStream = process.stderr) => {
	const lines = new Map<string, string>();
	const lastStage = new Map<string, string>();
	let drawn = 0;
	const draw = () => {
		if (drawn) stream.write(`\x1b[${drawn}A`);
		for (const line of lines.values()) stream.write(`\x1b[2K${line}\n`);
		drawn = lines.size;
	};
	return {
		update(event: JobProgress) {
			const width = 24;
			const filled = event.total > 0 ? Math.round((event.step / event.total) * width) : 0;
			const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
			const line = `${event.job.padEnd(14).slice(0, 14)} ${event.stage.padEnd(8)} ${bar} ${event.step}/${event.total} ${formatSeconds(event.etaSeconds)}`;
			if (stream.isTTY) {
				lines.set(event.job, line);
				draw();
			} else if (lastStage.get(event.job) !== event.stage) {
				lastStage.set(event.job, event.stage);
				stream.write(`${event.job}: ${event.stage}\n`);
			}
		},
	};
};

/** A fixed-width table for the end-of-run summary. */
export const formatTable = (header: string[], rows: string[][]): string => {
	const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
	const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
	return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
};
