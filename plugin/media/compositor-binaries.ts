import {accessSync, chmodSync, constants, existsSync, statSync} from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';
import {FateZeroError} from '../errors/fatezero-error.js';

export type CompositorBinaries = {
	/** Folder holding ffmpeg, ffprobe and their shared libraries. */
	dir: string;
	ffmpeg: string;
	ffprobe: string;
};

/** The npm package that carries Remotion's ffmpeg build for this platform (the same rule Remotion's renderer uses). */
export const compositorPackageName = (platform: NodeJS.Platform = process.platform, arch: string = process.arch, musl = isMusl()): string | null => {
	if (platform === 'win32' && arch === 'x64') return '@remotion/compositor-win32-x64-msvc';
	if (platform === 'darwin' && (arch === 'x64' || arch === 'arm64')) return `@remotion/compositor-darwin-${arch}`;
	if (platform === 'linux' && (arch === 'x64' || arch === 'arm64')) return `@remotion/compositor-linux-${arch}-${musl ? 'musl' : 'gnu'}`;
	return null;
};

// Node's diagnostic report names the glibc version on glibc systems and leaves it out on musl.
function isMusl(): boolean {
	if (process.platform !== 'linux') return false;
	const report = process.report?.getReport() as {header?: {glibcVersionRuntime?: string}} | undefined;
	return report?.header !== undefined && !report.header.glibcVersionRuntime;
}

const executableName = (name: 'ffmpeg' | 'ffprobe'): string => (process.platform === 'win32' ? `${name}.exe` : name);

const resolvePackageDir = (name: string): string | null => {
	const here = createRequire(import.meta.url);
	// Prefer the copy @remotion/renderer itself would use (it is the user's Remotion install), then our own.
	const requirers = [here];
	try {
		requirers.unshift(createRequire(here.resolve('@remotion/renderer')));
	} catch {
		// @remotion/renderer is a peer of the plugin; without it the compositor may still be installed directly.
	}
	for (const req of requirers) {
		try {
			const dir = (req(name) as {dir?: unknown}).dir;
			if (typeof dir === 'string') return dir;
		} catch {
			// try the next resolver
		}
	}
	return null;
};

const cache = new Map<string, CompositorBinaries>();

/**
 * Finds the ffmpeg and ffprobe that ship with Remotion's compositor package, so the plugin needs no
 * system ffmpeg. `binariesDirectory` overrides the lookup (Remotion's option of the same name).
 * That ffmpeg is built with `--disable-filters` plus a short list: no `fps`, `select` or `setpts`,
 * and no `rawvideo` muxer (raw frames go through `image2pipe`).
 */
export const resolveCompositorBinaries = (binariesDirectory: string | null = null): CompositorBinaries => {
	const key = binariesDirectory ?? '';
	const hit = cache.get(key);
	if (hit) return hit;
	let dir = binariesDirectory;
	if (dir === null) {
		const name = compositorPackageName();
		if (name === null) {
			throw new FateZeroError(
				'MEDIA_TOOLS_MISSING',
				`Remotion publishes no compositor (ffmpeg) package for ${process.platform}-${process.arch}, so video sources cannot be decoded here. Use a folder of PNG/JPEG frames as the source, or pass binariesDirectory pointing at a folder with ffmpeg and ffprobe.`,
			);
		}
		dir = resolvePackageDir(name);
		if (dir === null) {
			throw new FateZeroError(
				'MEDIA_TOOLS_MISSING',
				`The package ${name} (Remotion's ffmpeg/ffprobe for ${process.platform}-${process.arch}) is not installed, so video sources cannot be decoded. Install it with the same version as @remotion/renderer (npm install ${name}), or use a folder of PNG/JPEG frames as the source.`,
			);
		}
	}
	const binaries = {dir, ffmpeg: path.join(dir, executableName('ffmpeg')), ffprobe: path.join(dir, executableName('ffprobe'))};
	for (const file of [binaries.ffmpeg, binaries.ffprobe]) {
		if (!existsSync(file) || !statSync(file).isFile()) {
			throw new FateZeroError('MEDIA_TOOLS_MISSING', `${file} is missing, so video sources cannot be decoded. Reinstall the compositor package (or fix binariesDirectory=${JSON.stringify(binariesDirectory)}).`);
		}
		ensureExecutable(file);
	}
	cache.set(key, binaries);
	return binaries;
};

// Some package managers drop the executable bit; Remotion restores it the same way before it runs them.
const ensureExecutable = (file: string): void => {
	if (process.platform === 'win32') return;
	try {
		accessSync(file, constants.X_OK);
	} catch {
		try {
			chmodSync(file, 0o755);
		} catch (error) {
			throw new FateZeroError('MEDIA_TOOLS_MISSING', `${file} is not executable and could not be made so. Run chmod +x ${file}.`, {cause: error});
		}
	}
};
