import {existsSync} from 'node:fs';

/**
 * The browser Remotion renders with: the option, else FATEZERO_BROWSER_EXECUTABLE, else Debian's
 * /usr/bin/chromium when present (Remotion's own browser download needs network access), else
 * null (Remotion's default).
 */
export const resolveBrowserExecutable = (option?: string | null): string | null =>
	option ?? process.env.FATEZERO_BROWSER_EXECUTABLE ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : null);
