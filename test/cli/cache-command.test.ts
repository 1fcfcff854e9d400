import {readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {afterEach, describe, expect, it, vi} from 'vitest';
import {CACHE_HELP, cacheCommand} from '../../plugin/cli/cache-command.js';
import {isFateZeroError} from '../../plugin/errors/index.js';
import {entryDir} from '../../plugin/frame-cache/cache-layout.js';
import {publishEntry} from '../../plugin/frame-cache/publish-entry.js';
import {tempCacheDir, writeTestFrames} from '../frame-cache/cache-test-helpers.js';

const root = tempCacheDir('cache-command');
let n = 0;
const freshCache = async (keys: string[]) => {
	const cacheDir = path.join(root, `cache-${++n}`);
	for (const key of keys) await publishEntry({cacheDir, kind: 'clips', key, write: writeTestFrames(2)});
	return cacheDir;
};

/** Runs the command, capturing what it prints. */
const run = async (args: string[]) => {
	const lines: string[] = [];
	const spy = vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void lines.push(parts.join(' ')));
	try {
		const code = await cacheCommand(args);
		return {code, out: lines.join('\n')};
	} finally {
		spy.mockRestore();
	}
};

afterEach(() => {
	vi.unstubAllEnvs();
});

describe('fatezero cache', () => {
	it('ls prints a table of entries, or JSON', async () => {
		const cacheDir = await freshCache(['aaaa1111', 'bbbb2222']);
		const table = await run(['ls', '--cache-dir', cacheDir]);
		expect(table.code).toBe(0);
		expect(table.out).toMatch(/^KIND +KEY +FRAMES +SIZE +BYTES +CREATED \(UTC\) +LAST USED \(UTC\) +STATE/);
		expect(table.out).toMatch(/clips +aaaa1111 +2 +64×64 +8\.\d KiB +\d{4}-\d\d-\d\d \d\d:\d\d/);
		expect(table.out).toContain(`2 entries, `);
		const json = JSON.parse((await run(['ls', '--json', '--cache-dir', cacheDir])).out);
		expect(json.entries.map((e: {key: string}) => e.key)).toEqual(['aaaa1111', 'bbbb2222']);
		expect((await run(['ls', '--cache-dir', path.join(root, 'empty')])).out).toContain('No cache entries in');
	});

	it('uses FATEZERO_CACHE_DIR when --cache-dir is not given', async () => {
		const cacheDir = await freshCache(['fromenv']);
		vi.stubEnv('FATEZERO_CACHE_DIR', cacheDir);
		expect((await run(['ls'])).out).toContain('fromenv');
	});

	it('verify exits 0 when every checksum matches, 1 with the corrupt entries listed otherwise', async () => {
		const cacheDir = await freshCache(['fine', 'corrupted']);
		expect(await run(['verify', '--cache-dir', cacheDir])).toMatchObject({code: 0, out: expect.stringContaining('2 entries verified')});
		const frame = path.join(entryDir(cacheDir, 'clips', 'corrupted'), '00001.png');
		const bytes = readFileSync(frame);
		bytes[3] ^= 1;
		writeFileSync(frame, bytes);
		const bad = await run(['verify', '--cache-dir', cacheDir]);
		expect(bad.code).toBe(1);
		expect(bad.out).toContain('1 of 2 entries are corrupt');
		expect(bad.out).toContain('clips/corrupted');
		expect(bad.out).toContain('00001.png: SHA-256');
		expect(bad.out).toContain('--remove-corrupt');
		expect((await run(['verify', '--remove-corrupt', '--cache-dir', cacheDir])).out).toContain('clips/corrupted (removed)');
		expect((await run(['verify', '--cache-dir', cacheDir])).code).toBe(0);
	});

	it('gc --keep-days 0 removes unused entries; --dry-run only lists them', async () => {
		const cacheDir = await freshCache(['one', 'two']);
		await new Promise((resolve) => setTimeout(resolve, 5));
		const dry = await run(['gc', '--keep-days', '0', '--dry-run', '--cache-dir', cacheDir]);
		expect(dry.out).toContain('Would remove clips/one');
		expect(dry.out).toContain('Would remove 2 entries');
		expect((await run(['ls', '--json', '--cache-dir', cacheDir])).out).toContain('"two"');
		const real = await run(['gc', '--keep-days', '0', '--cache-dir', cacheDir]);
		expect(real.code).toBe(0);
		expect(real.out).toContain('Removed 2 entries');
		expect((await run(['ls', '--cache-dir', cacheDir])).out).toContain('No cache entries');
		expect((await run(['gc', '--cache-dir', cacheDir])).out).toContain('kept 0 used in the last 30 days');
	});

	it('reports misuse as INVALID_OPTION naming the option', async () => {
		const cases: [string[], RegExp][] = [
			[[], /needs a subcommand, one of ls, verify, gc; got none/],
			[['list'], /got "list"/],
			[['gc', '--keep-days=-1'], /--keep-days must be a whole number ≥ 0; got "-1"/],
			[['gc', '--keep-days', 'soon'], /--keep-days must be a whole number ≥ 0; got "soon"/],
			[['ls', '--keep-days', '3'], /--keep-days belongs to "fatezero cache gc"/],
			[['ls', '--bogus'], /fatezero cache: Unknown option '--bogus'/],
		];
		for (const [args, message] of cases) {
			const error = await cacheCommand(args).catch((e: unknown) => e);
			expect(isFateZeroError(error, 'INVALID_OPTION')).toBe(true);
			expect((error as Error).message).toMatch(message);
		}
		expect(CACHE_HELP).toMatch(/^fatezero cache <ls \| verify \| gc>/);
	});
});
