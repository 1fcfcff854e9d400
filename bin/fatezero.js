#!/usr/bin/env node
// The `fatezero` command. The published package runs the compiled CLI from dist/ (no tsx needed).
// In a clone of the repository the TypeScript sources are the truth, so they run through tsx (a
// devDependency) even when a dist/ from an earlier build or `npm pack` is lying around.
import {existsSync} from 'node:fs';

const sources = new URL('../plugin/cli/main.ts', import.meta.url);
if (existsSync(sources)) {
	const {register} = await import('tsx/esm/api');
	register();
	await import(sources.href);
} else {
	await import(new URL('../dist/plugin/cli/main.js', import.meta.url).href);
}
