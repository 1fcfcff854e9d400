import {cpSync, existsSync, readdirSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {beforeAll, describe, expect, it} from 'vitest';
import {descriptorKey} from '../../plugin/clip/descriptor-key.js';
import {removeEntry, verifyCache} from '../../plugin/frame-cache/cache-maintenance.js';
import {entryDir, kindDir, MANIFEST_FILE, TEMP_PREFIX, type CacheKind} from '../../plugin/frame-cache/cache-layout.js';
import {readIndex} from '../../plugin/frame-cache/descriptor-index.js';
import {readEntry} from '../../plugin/frame-cache/read-entry.js';
import {
	bundleCli,
	clipFrames,
	engineRuns,
	expectOnlyVerifiedEntries,
	runCli,
	runResult,
	tempWorkspace,
	testClip,
	tinyModel,
	writeFrames,
	type CacheLeftovers,
	type TimedEvent,
} from './job-test-helpers.js';

// Fault injection: `fatezero run` on the tiny model, SIGKILLed at 50 random points spread over
// import, inversion, editing and publication. The cache must never show an entry without a
// complete, verified manifest, and the job must then finish with the frames of a run that was
// never interrupted.

const KILLS = 50;
// Independent cache directories killed side by side (one per core of a 2-core CI machine).
const LANES = 2;

const workspace = tempWorkspace('jobs-kill');
const clipFile = path.join(workspace, 'clip.json');
const descriptor = testClip();
let cli: string;
let model: string;

beforeAll(async () => {
	[cli] = await Promise.all([bundleCli(path.join(workspace, 'bin')), writeFrames(path.join(workspace, 'frames'))]);
	model = tinyModel(workspace);
	writeFileSync(clipFile, JSON.stringify(descriptor));
});

const run = (cacheDir: string) => runCli(cli, ['run', clipFile, '--cache-dir', cacheDir, '--json-progress'], {env: {FATEZERO_MODEL: model, FATEZERO_ENGINE_LOG: `${cacheDir}.engine.log`}});

type Target = 'import' | 'inversion' | 'editing' | 'publication';
const TARGETS: Target[] = ['import', 'inversion', 'editing', 'publication'];

/**
 * Where each target's kill window starts (the progress event that opens it) and what has to be
 * removed from the cache so that the stage runs again. A kill is drawn uniformly over the
 * window's length in the uninterrupted run, counted from the child's own opening event (startup
 * and engine loading take seconds and vary more than a whole stage lasts).
 */
const WINDOWS: Record<Target, {opens: (e: TimedEvent, inversionCached: boolean) => boolean; closes: (e: TimedEvent) => boolean; recompute: CacheKind[]}> = {
	// importing the frames, encoding the PNGs, publishing the source entry
	import: {opens: (e) => e.stage === 'import' && e.step === 0, closes: (e) => e.stage === 'load' && e.step === 0, recompute: ['sources', 'inversions', 'clips']},
	// prompts, VAE encoding, the inversion steps (and, drawn late, publishing the inversion entry)
	inversion: {opens: (e) => e.stage === 'load' && e.step === 1, closes: (e) => e.stage === 'invert' && e.step === e.total, recompute: ['inversions', 'clips']},
	// the editing steps (after the inversion's publication, or the engine load when the inversion is cached)
	editing: {opens: (e, inversionCached) => (inversionCached ? e.stage === 'load' && e.step === 1 : e.stage === 'invert' && e.step === e.total), closes: (e) => e.stage === 'decode', recompute: ['clips']},
	// the clip's publication: PNG encoding, writing and fsyncing the frames, manifest, rename, descriptor index
	publication: {opens: (e) => e.stage === 'publish', closes: (e) => e.stage === 'done', recompute: ['clips']},
};

/** How far the killed process `pid` got with publishing <kind>/<key>. */
const publicationState = (cacheDir: string, kind: CacheKind, key: string, pid: number): 'published' | 'manifest written' | 'files written' | 'no file written' => {
	if (existsSync(entryDir(cacheDir, kind, key))) return 'published';
	// an entry's temporary directory (a lock's pending owner file is named alike; it is a file)
	const temp = readdirSync(kindDir(cacheDir, kind), {withFileTypes: true}).find((item) => item.isDirectory() && item.name.startsWith(`${TEMP_PREFIX}${key}-${pid}-`))?.name;
	if (!temp) return 'no file written';
	const files = readdirSync(path.join(kindDir(cacheDir, kind), temp), {recursive: true}).map(String);
	return files.includes(MANIFEST_FILE) ? 'manifest written' : files.some((f) => /\.(png|safetensors)$/.test(f)) ? 'files written' : 'no file written';
};

/** Where a killed run was: its last progress event, the engine runs it logged, and its files in the cache. */
const landedIn = (events: TimedEvent[], ran: Set<string>, cacheDir: string, keys: Record<CacheKind, string>, pid: number): string => {
	const last = events[events.length - 1];
	if (!last) return 'startup';
	if (last.stage === 'done') return 'publication: after the index was written';
	if (last.stage === 'publish') {
		const state = publicationState(cacheDir, 'clips', keys.clips, pid);
		return {
			published: 'publication: clip renamed into place, index not yet written',
			'manifest written': 'publication: manifest written, not yet renamed',
			'files written': 'publication: writing the frames',
			'no file written': 'publication: encoding the PNGs',
		}[state];
	}
	if (last.stage === 'decode') return 'editing: VAE decode of the edited latents';
	if (ran.has('edit')) return last.stage === 'edit' ? 'editing: steps' : 'editing: before its first step';
	if (ran.has('invert')) {
		if (last.stage !== 'invert' || last.step < last.total) return 'inversion: VAE encode and steps';
		return publicationState(cacheDir, 'inversions', keys.inversions, pid) === 'published' ? 'inversion: published, edit not started' : 'inversion: writing its entry';
	}
	if (last.stage === 'load') return last.step === 0 ? 'engine load' : 'inversion: prompts';
	if (last.stage === 'import') {
		if (last.step === 0) return 'import: decoding and resizing';
		return publicationState(cacheDir, 'sources', keys.sources, pid) === 'published' ? 'import: source published' : 'import: writing the source entry';
	}
	return last.stage;
};

describe('a clip job killed with SIGKILL', () => {
	it(`at ${KILLS} random points leaves only verified entries, and the rerun gives the uninterrupted frames`, {timeout: 400_000}, async () => {
		const started = performance.now();
		// 1. the uninterrupted run: the frames to match and the length of each stage
		const referenceDir = path.join(workspace, 'reference');
		const reference = run(referenceDir);
		const referenceExit = await reference.exit;
		expect(referenceExit.code, referenceExit.stderr).toBe(0);
		const referenceResult = runResult(referenceExit.stdout);
		expect(referenceResult.status).toBe('computed');
		const referenceFrames = clipFrames(referenceResult.path);
		expect(referenceFrames.size).toBe(4);
		const at = (predicate: (e: TimedEvent) => boolean) => reference.events.find(predicate)!.t;
		const windowMs = Object.fromEntries(TARGETS.map((target) => [target, at(WINDOWS[target].closes) - at((e) => WINDOWS[target].opens(e, false))])) as Record<Target, number>;
		const referenceMs = reference.events[reference.events.length - 1].t;
		console.log(
			`uninterrupted run: ${referenceMs.toFixed(0)} ms (startup + engine load until ${at((e) => WINDOWS.inversion.opens(e, false)).toFixed(0)} ms); kill windows: ${TARGETS.map((t) => `${t} ${windowMs[t].toFixed(0)} ms`).join(', ')}`,
		);
		const index = await readIndex(referenceDir, descriptorKey(descriptor as never));
		const keys: Record<CacheKind, string> = {sources: index!.sourceKey, inversions: index!.inversionKey, clips: index!.editKey};

		// 2. the kills, LANES cache directories side by side
		const landings: {target: Target; landed: string; delayMs: number}[] = [];
		const leftovers: CacheLeftovers[] = [];
		const lane = async (laneDir: string, kills: number, offset: number) => {
			// the compiled graphs are not cache entries; sharing them saves each lane a compilation
			cpSync(path.join(referenceDir, 'graphs'), path.join(laneDir, 'graphs'), {recursive: true});
			for (let k = 0; k < kills; k++) {
				const target = TARGETS[(k + offset) % TARGETS.length];
				// remove what the target stage produces (and everything after it), so the stage runs again
				for (const kind of WINDOWS[target].recompute) expect(await removeEntry(laneDir, kind, keys[kind])).toMatch(/^(removed|absent)$/);
				let delayMs = Math.random() * windowMs[target];
				for (let attempt = 0; ; attempt++) {
					const inversionCached = (await readEntry(laneDir, 'inversions', keys.inversions, {touch: false})) !== null;
					const child = run(laneDir);
					let armed = false;
					child.onEvent((event) => {
						if (armed || !WINDOWS[target].opens(event, inversionCached)) return;
						armed = true;
						setTimeout(() => child.child.kill('SIGKILL'), delayMs);
					});
					const exit = await child.exit;
					if (exit.signal === 'SIGKILL') {
						const pid = child.child.pid!;
						const ran = new Set(engineRuns(`${laneDir}.engine.log`).filter((r) => r.pid === pid).map((r) => r.kind));
						landings.push({target, landed: landedIn(child.events, ran, laneDir, keys, pid), delayMs});
						break;
					}
					// finished before the kill: the run was faster than the reference; kill earlier
					expect(exit.code, exit.stderr).toBe(0);
					expect(attempt).toBeLessThan(4);
					for (const kind of WINDOWS[target].recompute) await removeEntry(laneDir, kind, keys[kind]);
					delayMs /= 2;
				}
				// after every kill: nothing visible but complete, verified entries
				leftovers.push(await expectOnlyVerifiedEntries(laneDir));
			}
		};
		const lanes = Array.from({length: LANES}, (_, i) => path.join(workspace, `lane-${i}`));
		await Promise.all(lanes.map((dir, i) => lane(dir, Math.floor(KILLS / LANES) + (i < KILLS % LANES ? 1 : 0), i)));
		const killedMs = performance.now() - started;

		const byLanding = new Map<string, number>();
		for (const {landed} of landings) byLanding.set(landed, (byLanding.get(landed) ?? 0) + 1);
		const byGroup = new Map<string, number>();
		for (const {landed} of landings) {
			const group = TARGETS.find((t) => landed.startsWith(`${t}:`)) ?? 'other';
			byGroup.set(group, (byGroup.get(group) ?? 0) + 1);
		}
		console.log(`${landings.length} SIGKILLs in ${(killedMs / 1000).toFixed(1)} s; where they landed:\n${[...byLanding].sort().map(([stage, n]) => `  ${stage}: ${n}`).join('\n')}`);
		console.log(`by stage: ${TARGETS.map((t) => `${t} ${byGroup.get(t) ?? 0}`).join(', ')}, other ${byGroup.get('other') ?? 0}`);
		const most = leftovers.reduce((a, b) => ({entries: Math.max(a.entries, b.entries), temp: Math.max(a.temp, b.temp), locks: Math.max(a.locks, b.locks), trash: Math.max(a.trash, b.trash)}));
		console.log(`crash leftovers at most (per lane): ${most.temp} temp dirs, ${most.locks} stale locks, ${most.trash} trash dirs`);
		expect(landings).toHaveLength(KILLS);
		for (const target of TARGETS) expect(byGroup.get(target) ?? 0, `kills landing in ${target}`).toBeGreaterThanOrEqual(3);

		// 3. after all of them: the cache verifies (API and CLI), and the rerun gives the same frames
		await Promise.all(
			lanes.map(async (laneDir) => {
				expect((await verifyCache(laneDir)).corrupt).toEqual([]);
				const verify = await runCli(cli, ['cache', 'verify', '--cache-dir', laneDir]).exit;
				expect(verify.code, verify.stdout + verify.stderr).toBe(0);
				const rerun = await run(laneDir).exit;
				expect(rerun.code, rerun.stderr).toBe(0);
				const result = runResult(rerun.stdout);
				expect(result.key).toBe(referenceResult.key);
				expect(clipFrames(result.path)).toEqual(referenceFrames);
				await expectOnlyVerifiedEntries(laneDir);
				expect((await readIndex(laneDir, descriptorKey(descriptor as never)))?.editKey).toBe(referenceResult.key);
			}),
		);
		console.log(`fault injection total: ${((performance.now() - started) / 1000).toFixed(1)} s`);
	});
});
