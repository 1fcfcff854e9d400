import {describe, expect, it} from 'vitest';
import {canonicalJson} from '../../plugin/clip/index.js';

describe('canonicalJson', () => {
	it('sorts keys at every depth, drops undefined fields and writes no whitespace', () => {
		expect(canonicalJson({b: 1, a: {d: [3, {z: true, y: null}], c: 'x'}, u: undefined})).toBe('{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}');
		expect(canonicalJson({a: 1, b: 2})).toBe(canonicalJson({b: 2, a: 1}));
	});

	it('writes numbers and strings as JSON does', () => {
		expect(canonicalJson([0.1, 1e21, -0, 7.5, 'é"\n'])).toBe(JSON.stringify([0.1, 1e21, 0, 7.5, 'é"\n']));
	});

	it('refuses values without one JSON form', () => {
		expect(() => canonicalJson({a: Number.NaN})).toThrow(/a is NaN/);
		expect(() => canonicalJson({a: [1, undefined]})).toThrow(/a\[1\] is undefined/);
		expect(() => canonicalJson({when: new Date(0)})).toThrow(/when is a Date object/);
		expect(() => canonicalJson(undefined)).toThrow(/the value is undefined/);
	});
});
