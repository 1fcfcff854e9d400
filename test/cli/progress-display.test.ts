import {describe, expect, it} from 'vitest';
import {createProgressDisplay, PROGRESS_FORMAT_VERSION} from '../../plugin/cli/progress-display.js';

/** A stream that records what was written; a TTY or not. */
const fakeStream = (isTTY: boolean) => {
	const chunks: string[] = [];
	const stream = {isTTY, write: (text: string) => chunks.push(text) > 0} as unknown as NodeJS.WriteStream;
	return {stream, text: () => chunks.join('')};
};

const run = (display: ReturnType<typeof createProgressDisplay>) => {
	display.update({job: 'car', stage: 'import', step: 0, total: 1});
	display.update({job: 'car', stage: 'import', step: 1, total: 1});
	for (let step = 1; step <= 10; step++) display.update({job: 'car', stage: 'invert', step, total: 10, warnings: step > 5 ? ['"a long prompt" was cut at 77 tokens'] : undefined});
	for (let step = 1; step <= 10; step++) display.update({job: 'car', stage: 'edit', step, total: 10});
};

describe('the progress display', () => {
	it('without a terminal writes a line per stage and per further 10 %, with the ETAs, and each warning once', () => {
		const {stream, text} = fakeStream(false);
		run(createProgressDisplay({stream}));
		const lines = text().trim().split('\n');
		expect(lines).toContain('car: importing 0% (0/1)');
		expect(lines.filter((l) => l.startsWith('car: inverting'))).toHaveLength(10);
		expect(lines.filter((l) => l.startsWith('car: editing'))).toHaveLength(10);
		expect(lines.find((l) => l.startsWith('car: inverting 50%'))).toMatch(/ETA \d+s, total ETA \d+s$/);
		expect(lines.filter((l) => l.includes('⚠'))).toEqual(['⚠ car: "a long prompt" was cut at 77 tokens']);
		expect(text()).not.toContain('\x1b[');
	});

	it('--json-progress writes one NDJSON event per update with its type and format version', () => {
		const {stream, text} = fakeStream(true);
		run(createProgressDisplay({stream, json: true}));
		const events = text().trim().split('\n').map((line) => JSON.parse(line));
		expect(events).toHaveLength(22);
		expect(text().startsWith('{"job":"car"')).toBe(true);
		for (const event of events) expect(event).toMatchObject({type: 'progress', version: PROGRESS_FORMAT_VERSION, job: 'car'});
		const inverting = events.find((e) => e.stage === 'invert' && e.step === 5);
		expect(inverting.totalEtaSeconds).toBeGreaterThanOrEqual(inverting.etaSeconds);
		expect(events.at(-1)).toMatchObject({stage: 'edit', step: 10, total: 10, etaSeconds: 0, warnings: ['"a long prompt" was cut at 77 tokens']});
	});

	it('on a terminal redraws one bar per job in place', () => {
		const {stream, text} = fakeStream(true);
		const display = createProgressDisplay({stream});
		display.update({job: 'a', stage: 'invert', step: 1, total: 4});
		display.update({job: 'b', stage: 'edit', step: 2, total: 4});
		display.update({job: 'a', stage: 'invert', step: 2, total: 4});
		expect(text()).toContain('\x1b[2A');
		expect(text()).toMatch(/a +inverting +\[#{12}\.{12}\] 2\/4/);
	});
});
