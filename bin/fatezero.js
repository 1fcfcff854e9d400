#!/usr/bin/env node
// The `fatezero` command. A published package runs the compiled CLI from dist/; a clone of the
// repository without a build runs the TypeScript sources through tsx (a devDependency).
import {existsSync} from 'node:fs';

const compiled = new URL('../dist/plugin/cli/main.js', import.meta.url);
if (existsSync(compiled)) {
	await import(compiled.href);
} else {
	const {register} = await import('tsx/esm/api');
	register();
	await import(new URL('../plugin/cli/main.ts', import.meta.url).href);
}
