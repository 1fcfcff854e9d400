// Node-only media: source import (videos through Remotion's ffmpeg, frame folders through sharp),
// content hashing, PNG writing. Re-exported by plugin/node.ts, never by the browser-safe index.
export {importSource} from './import-source.js';
export type {ImportedSource, ImportSourceOptions, SourceInfo} from './import-source.js';
export type {FpsSelection, FrameSelection, StrideSelection} from './frame-selection.js';
export type {CropOffsets, CropOption} from './fatezero-frame-transform.js';
export {hashFileContent, hashSourceContent} from './hash-source-content.js';
export {resolveCompositorBinaries} from './compositor-binaries.js';
export type {CompositorBinaries} from './compositor-binaries.js';
export {VIDEO_EXTENSIONS} from './source-kind.js';
export {FRAME_IMAGE_EXTENSIONS} from './list-frame-files.js';
export {readFrameFolder} from './read-frame-folder.js';
export type {LoadedFrames} from './read-frame-folder.js';
export {writePngFrames} from './write-png-frames.js';
export {psnr} from './psnr.js';
