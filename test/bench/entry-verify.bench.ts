// npm run bench:verify — what integrity on read (issue 16) costs per clip: the entries a default
// clip (8 frames at 512², 50 steps) builds on or publishes, re-hashed the way readEntry and
// publishToPublicDir do. Sizes are the real ones (float32 pixels and latents, PNG frames); the
// content is random, which hashes at the same speed. JSON on the last line.
import {mkdtempSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {randomBytes} from 'node:crypto';
import {getOrCompute} from '../../plugin/frame-cache/compute-once.js';
import {readEntry} from '../../plugin/frame-cache/read-entry.js';

const frames = 8;
const size = 512;
const steps = 50;
const latent = frames * 4 * (size / 8) * (size / 8) * 4;
const pngBytes = 420_000; // a 512² PNG frame of real footage is 350–500 kB
const entries = {
	sources: {'pixels.safetensors': frames * 3 * size * size * 4, ...Object.fromEntries(Array.from({length: frames}, (_, i) => [`frames/${String(i).padStart(5, '0')}.png`, pngBytes]))},
	inversions: {'inversion.safetensors': (steps + 1) * latent + steps * frames * 64 * 64 * 4},
	clips: Object.fromEntries(Array.from({length: frames}, (_, i) => [`${String(i).padStart(5, '0')}.png`, pngBytes])),
} as const;

const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'fatezero-bench-verify-'));
const rows: {kind: string; megabytes: number; verifiedReadMs: number; cheapReadMs: number; mbPerSecond: number}[] = [];
try {
	for (const [kind, files] of Object.entries(entries) as [keyof typeof entries, Record<string, number>][]) {
		const key = `bench${kind}`;
		await getOrCompute({
			cacheDir,
			kind,
			key,
			verify: false,
			compute: async (_dir, writer) => {
				for (const [name, bytes] of Object.entries(files)) await writer.writeFile(name, randomBytes(bytes));
				return {keyInputs: {}};
			},
		});
		const bytes = Object.values(files).reduce((a, b) => a + b, 0);
		const time = async (verify: boolean) => {
			const samples: number[] = [];
			for (let i = 0; i < 7; i++) {
				const start = performance.now();
				if (!(await readEntry(cacheDir, kind, key, {verify, touch: false}))) throw new Error(`${kind} did not read back`);
				samples.push(performance.now() - start);
			}
			return samples.sort((a, b) => a - b)[3];
		};
		const verifiedReadMs = await time(true);
		const cheapReadMs = await time(false);
		rows.push({kind, megabytes: bytes / 1e6, verifiedReadMs, cheapReadMs, mbPerSecond: bytes / 1e6 / (verifiedReadMs / 1000)});
	}
} finally {
	rmSync(cacheDir, {recursive: true, force: true});
}
for (const r of rows) console.log(`${r.kind.padEnd(11)} ${r.megabytes.toFixed(1).padStart(6)} MB  verified read ${r.verifiedReadMs.toFixed(1).padStart(7)} ms (cheap ${r.cheapReadMs.toFixed(1)} ms), ${r.mbPerSecond.toFixed(0)} MB/s`);
const clipJob = rows.filter((r) => r.kind !== 'clips').reduce((a, r) => a + r.verifiedReadMs, 0);
const clipHit = rows.find((r) => r.kind === 'clips')!.verifiedReadMs;
console.log(`A job building on source + inversion: ${clipJob.toFixed(0)} ms of hashing; a cached clip: ${clipHit.toFixed(0)} ms (the public copy is checked again at publication, about the same).`);
console.log(JSON.stringify({bench: 'entry-verify', frames, size, steps, rows, buildOnMs: clipJob, clipHitMs: clipHit}));
