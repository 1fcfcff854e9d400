import {statSync} from 'node:fs';
import path from 'node:path';
import {FateZeroError} from '../errors/fatezero-error.js';
import {FRAME_IMAGE_EXTENSIONS, isFrameImageName} from './list-frame-files.js';

/** Containers Remotion's ffmpeg can demux and that carry the codecs it decodes (H.264, HEVC, VP8/9, AV1, ProRes). */
export const VIDEO_EXTENSIONS = ['.mp4', '.m4v', '.mov', '.webm', '.mkv'] as const;

export type SourceKind = 'video' | 'frames';

/** Whether `source` is a video file or a frame folder, judged from the file system and the extension. */
export const sourceKind = (source: string): SourceKind => {
	let stats;
	try {
		stats = statSync(source);
	} catch (error) {
		throw new FateZeroError('INVALID_INPUT', `Source ${source} does not exist. Pass a video file (${VIDEO_EXTENSIONS.join(', ')}) or a folder of PNG/JPEG frames; relative paths resolve against ${process.cwd()}.`, {cause: error});
	}
	if (stats.isDirectory()) return 'frames';
	if (!stats.isFile()) throw new FateZeroError('INVALID_INPUT', `Source ${source} is neither a file nor a folder. Pass a video file or a folder of PNG/JPEG frames.`);
	const ext = path.extname(source).toLowerCase();
	if ((VIDEO_EXTENSIONS as readonly string[]).includes(ext)) return 'video';
	if (isFrameImageName(source)) {
		throw new FateZeroError('INVALID_INPUT', `Source ${source} is a single image. Put the frames of the clip in a folder (00000.png, 00001.png, …) and pass the folder; a one-frame clip is a folder with one image.`);
	}
	throw new FateZeroError(
		'INVALID_INPUT',
		`Source ${source} has the unsupported extension ${JSON.stringify(ext || '(none)')}. Pass a video (${VIDEO_EXTENSIONS.join(', ')}) or a folder of ${FRAME_IMAGE_EXTENSIONS.join('/')} frames; convert other formats to mp4 first.`,
	);
};
