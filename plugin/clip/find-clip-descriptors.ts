import type {ClipDescriptor} from './clip-descriptor.js';
import {parseClipDescriptor} from './fatezero-clip.js';
import {isStudioClip, studioClipToDescriptor} from './studio-clip-schema.js';

const looksLikeClip = (value: Record<string, unknown>) =>
	typeof value.source === 'string' && typeof value.sourcePrompt === 'string' && typeof value.prompt === 'string';

/**
 * Every clip descriptor in a composition's props (at any depth: `clip`, `clips: […]`,
 * `variants.a.clip` …), validated. Objects with source + sourcePrompt + prompt count as clips; an
 * invalid one throws, naming where it sits.
 */
export const findClipDescriptors = (props: unknown): ClipDescriptor[] => {
	const found: ClipDescriptor[] = [];
	const visit = (value: unknown, where: string) => {
		if (Array.isArray(value)) {
			value.forEach((item, i) => visit(item, `${where}[${i}]`));
		} else if (value !== null && typeof value === 'object') {
			const record = value as Record<string, unknown>;
			if (looksLikeClip(record)) {
				found.push(isStudioClip(record) ? parseClipDescriptor(studioClipToDescriptor(record), `props${where}`) : parseClipDescriptor(record, `props${where}`));
				return;
			}
			for (const [key, child] of Object.entries(record)) visit(child, `${where}.${key}`);
		}
	};
	visit(props, '');
	return found;
};
