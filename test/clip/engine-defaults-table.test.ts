import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {engineDefaultsTable} from '../../scripts/defaults-table.js';

// The README's table of engine defaults is generated from ENGINE_DEFAULTS (one home): a default
// changed in code without `npx tsx scripts/defaults-table.ts` pasted into the README fails here.
describe('the README table of engine defaults', () => {
	it('is the table generated from ENGINE_DEFAULTS', () => {
		expect(readFileSync('README.md', 'utf8')).toContain(engineDefaultsTable());
	});
});
