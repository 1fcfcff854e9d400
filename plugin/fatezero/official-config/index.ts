// Official FateZero configs (test_fatezero.py's YAML) → this port's options. parseOfficialConfig
// is pure (browser-safe); loadOfficialConfig reads a file with node:fs.
export {formatKeyPath} from './config-key-path.js';
export type {KeySegment} from './config-key-path.js';
export {loadOfficialConfig} from './load-official-config.js';
export {OFFICIAL_DEFAULTS} from './official-defaults.js';
export {parseOfficialConfig} from './parse-official-config.js';
export type {OfficialConfig, ParseOfficialConfigOptions} from './parse-official-config.js';
export {resolveInterpolations, UnresolvedInterpolation} from './resolve-interpolations.js';
export type {ResolvedConfigTree} from './resolve-interpolations.js';
