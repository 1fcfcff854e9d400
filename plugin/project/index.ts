// Node-only: the project's FateZero settings (flags, environment, fatezero.config.json) and its model.
export {resolveProjectSettings, describeSettings, GENERATED_TINY_MODEL, PROJECT_SETTINGS} from './project-settings.js';
export type {ComputeType, ProjectSettings, Setting, SettingFlags, SettingName, SettingSource} from './project-settings.js';
export {PROJECT_CONFIG_FILE, projectConfigFileSchema, readProjectConfigFile} from './project-config-file.js';
export type {ProjectConfigFile} from './project-config-file.js';
export {resolveModel, resolveCommandModel, generatedModelDir} from './resolve-model.js';
export type {ResolvedModel} from './resolve-model.js';
export {resolveCacheDir} from './resolve-cache-dir.js';
