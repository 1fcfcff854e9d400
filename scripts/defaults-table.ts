// Prints the README's table of engine defaults from their one home (plugin/clip/engine-defaults.ts):
//   npx tsx scripts/defaults-table.ts
// test/clip/engine-defaults-table.test.ts checks that the README holds exactly this table.
import {pathToFileURL} from 'node:url';
import {ENGINE_DEFAULT_NOTES, ENGINE_DEFAULTS, type EngineDefaultKey} from '../plugin/clip/engine-defaults.js';

const value = (key: EngineDefaultKey): string => {
	const v = ENGINE_DEFAULTS[key];
	if (key === 'memoryBudgetShareOfRam') return `${Math.round((v as number) * 100)} % of RAM`;
	if (key === 'fusionMaxQueryTokens') return `${v} (32²)`;
	if (key === 'maxAttentionMapElementsPerFrame') return `${v} (2²¹)`;
	return String(v);
};

export const engineDefaultsTable = (): string => {
	const rows = (Object.keys(ENGINE_DEFAULTS) as EngineDefaultKey[]).map((key) => `| \`${ENGINE_DEFAULT_NOTES[key].option}\` | ${value(key)} | ${ENGINE_DEFAULT_NOTES[key].note} |`);
	return ['| Option (descriptor / CLI) | Default | Meaning |', '| --- | --- | --- |', ...rows].join('\n');
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) console.log(engineDefaultsTable());
