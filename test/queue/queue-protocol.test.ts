import {describe, expect, it} from 'vitest';
import {parseQueueUrl, stageJobId} from '../../plugin/queue/queue-protocol.js';
import {coordinatorFromFlags} from '../../plugin/queue/distributed-flags.js';

describe('queue protocol', () => {
	it('parses --queue redis URLs and names the option on a bad one', () => {
		expect(parseQueueUrl('redis://10.0.0.5:6380')).toEqual({host: '10.0.0.5', port: 6380, db: 0});
		expect(parseQueueUrl('redis://:s%40cret@h/2')).toEqual({host: 'h', port: 6379, db: 2, password: 's@cret'});
		expect(() => parseQueueUrl('http://h:1')).toThrow(/--queue .* must start with redis:\/\//);
		expect(() => parseQueueUrl('h:1')).toThrow(/--queue/);
		expect(() => parseQueueUrl('redis://h/x')).toThrow(/database number/);
	});

	it('names jobs by content key, so every coordinator asking for one result names one job', () => {
		const keys = {sourceKey: 's', inversionKey: 'i1', editKey: 'e1'};
		expect(stageJobId('invert', keys)).toBe('inv-i1');
		expect(stageJobId('edit', keys)).toBe('edit-e1');
	});

	it('--queue and --store go together; neither means a local run', () => {
		expect(coordinatorFromFlags({}, {cacheDir: '/tmp/x'})).toBeNull();
		expect(() => coordinatorFromFlags({queue: 'redis://h:1'}, {cacheDir: '/tmp/x'})).toThrow(/--queue and --store go together/);
		expect(() => coordinatorFromFlags({store: '/tmp/s'}, {cacheDir: '/tmp/x'})).toThrow(/--queue and --store go together/);
	});
});
