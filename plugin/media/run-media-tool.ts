import {spawn} from 'node:child_process';
import path from 'node:path';
import {FateZeroError} from '../errors/fatezero-error.js';

export type MediaToolRun = {
	/** Exit code, or null when the process was killed (then `signal` says why). */
	code: number | null;
	signal: NodeJS.Signals | null;
	/** Collected stdout; empty when `onStdout` consumed it. */
	stdout: Buffer;
	/** Last part of stderr (ffmpeg's diagnostics), for error messages. */
	stderr: string;
};

export type MediaToolOptions = {
	/** Receives stdout chunks as they arrive instead of collecting them. Return false to stop the tool early. */
	onStdout?: (chunk: Buffer) => boolean | void;
	signal?: AbortSignal;
};

const STDERR_KEEP = 8_000;

/**
 * Runs ffmpeg or ffprobe from the compositor folder. Like Remotion's own `callFf` it runs with the
 * binaries' folder as cwd (so callers must pass absolute paths) and, on macOS, points the loader at it.
 */
export const runMediaTool = (executable: string, args: string[], options: MediaToolOptions = {}): Promise<MediaToolRun> =>
	new Promise((resolve, reject) => {
		if (options.signal?.aborted) {
			reject(new FateZeroError('ABORTED', `Media import was aborted before ${path.basename(executable)} started.`));
			return;
		}
		const cwd = path.dirname(executable);
		const child = spawn(executable, args, {
			cwd,
			env: process.platform === 'darwin' ? {...process.env, DYLD_LIBRARY_PATH: cwd} : process.env,
			stdio: ['ignore', 'pipe', 'pipe'],
			windowsHide: true,
		});
		const chunks: Buffer[] = [];
		let stderr = '';
		let stoppedEarly = false;
		let aborted = false;
		const onAbort = (): void => {
			aborted = true;
			child.kill('SIGKILL');
		};
		options.signal?.addEventListener('abort', onAbort, {once: true});
		child.stdout.on('data', (chunk: Buffer) => {
			if (stoppedEarly) return;
			if (options.onStdout) {
				if (options.onStdout(chunk) === false) {
					stoppedEarly = true;
					child.kill('SIGKILL');
				}
			} else {
				chunks.push(chunk);
			}
		});
		child.stderr.on('data', (chunk: Buffer) => {
			stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_KEEP);
		});
		child.on('error', (error) => {
			options.signal?.removeEventListener('abort', onAbort);
			reject(new FateZeroError('MEDIA_TOOLS_MISSING', `Could not start ${executable}: ${error.message}. Reinstall the Remotion compositor package for this platform.`, {cause: error}));
		});
		child.on('close', (code, signal) => {
			options.signal?.removeEventListener('abort', onAbort);
			if (aborted) {
				reject(new FateZeroError('ABORTED', `Media import was aborted; ${path.basename(executable)} was stopped.`));
				return;
			}
			resolve({code: stoppedEarly ? 0 : code, signal: stoppedEarly ? null : signal, stdout: Buffer.concat(chunks), stderr});
		});
	});

/** The last few meaningful lines of ffmpeg's stderr, for quoting in an error message. */
export const stderrTail = (stderr: string, lines = 3): string =>
	stderr
		.split('\n')
		// "[h264 @ 0x55aa7c718980] …": the addresses differ on every run and mean nothing to a user.
		.map((line) => line.replace(/ @ 0x[0-9a-f]+\]/g, ']').trim())
		.filter((line) => line !== '' && !line.startsWith('Last message repeated'))
		.slice(-lines)
		.join(' | ');
