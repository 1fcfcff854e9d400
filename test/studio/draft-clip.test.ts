import {afterEach, describe, expect, it, vi} from 'vitest';
import {descriptorKey} from '../../plugin/clip/descriptor-key.js';
import {DRAFT_SETTINGS, draftClip} from '../../plugin/clip/draft-clip.js';
import {fateZeroClip} from '../../plugin/clip/fatezero-clip.js';
import {fateZeroMetadata} from '../../plugin/remotion/calculate-fatezero-metadata.js';
import {resolveClip, setFateZeroFrameBaseUrl} from '../../plugin/remotion/resolve-clip.js';

// Draft proxies (issue 13 item 3): one place for their settings, a key of their own, and never
// used by a render: a render whose clip has only its draft fails at once with the prerender command.

const clip = fateZeroClip({source: 'footage/car.mp4', sourcePrompt: 'a silver jeep', prompt: 'a watercolor jeep', size: 512, steps: 50, label: 'jeep'});

afterEach(() => {
	vi.unstubAllGlobals();
	setFateZeroFrameBaseUrl(null);
});

describe('draft clips', () => {
	it('are the same edit at half size and at most 12 steps, under a key of their own', () => {
		const draft = draftClip(clip)!;
		expect(draft).toMatchObject({size: 256, steps: DRAFT_SETTINGS.steps, prompt: clip.prompt, sourcePrompt: clip.sourcePrompt, frames: clip.frames, edit: clip.edit, label: 'jeep (draft)'});
		expect(descriptorKey(draft)).not.toBe(descriptorKey(clip));
		// already as cheap as a draft: none
		expect(draftClip(fateZeroClip({...clip, size: 64, steps: 10}))).toBeNull();
		// sizes stay multiples of 64 (SD-1.x), never below 64
		expect(draftClip(fateZeroClip({...clip, size: 448}))!.size).toBe(192);
		expect(draftClip(fateZeroClip({...clip, size: 64}))!.size).toBe(64);
	});

	it('are never used by a render: a clip with only its draft cached fails fast with the prerender command', async () => {
		const draft = draftClip(clip)!;
		const draftKey = descriptorKey(draft);
		setFateZeroFrameBaseUrl('http://frames.test/fatezero');
		// a published draft and nothing else
		vi.stubGlobal('fetch', async (url: string) => {
			const json = (body: unknown) => new Response(JSON.stringify(body), {headers: {'content-type': 'application/json'}});
			if (url === `http://frames.test/fatezero/index/${draftKey}.json`) return json({editKey: 'd'.repeat(64), sourceKey: 's'.repeat(64)});
			if (url === `http://frames.test/fatezero/clips/${'d'.repeat(64)}/manifest.json`) return json({frameCount: 8, fps: 10, width: 256, height: 256});
			return new Response('not found', {status: 404});
		});
		expect(await resolveClip(draft)).toMatchObject({editKey: 'd'.repeat(64)});
		const metadata = fateZeroMetadata<{clip: typeof clip}>();
		await expect(metadata({props: {clip}, defaultProps: {clip}, compositionId: 'Jeep', isRendering: true, abortSignal: new AbortController().signal} as never)).rejects.toThrow(
			/FateZero cache miss: clip "jeep" of composition "Jeep" is not in the cache\. Run `npx fatezero prerender .* Jeep`/,
		);
	});
});
