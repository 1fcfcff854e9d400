import {resolveProjectSettings} from './project-settings.js';

/**
 * The store folder a command or API uses: the explicit option, else FATEZERO_CACHE_DIR, else
 * fatezero.config.json's cacheDir, else `cache/` in the current project.
 */
export const resolveCacheDir = (cacheDir?: string | null): string => resolveProjectSettings({flags: cacheDir ? {cacheDir} : {}}).cacheDir.value;
