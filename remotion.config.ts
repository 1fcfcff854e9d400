// Remotion settings for the demo project (`npx remotion studio|render` read this file, and the
// `fatezero` commands load it the same way).
import {Config} from '@remotion/cli/config';
import {existsSync} from 'node:fs';

// No public dir setting: like a user's project, edited clips are published into public/fatezero/
// (the store stays in cache/), and `fatezero` commands read this file as `npx remotion` does.
if (existsSync('/usr/bin/chromium')) Config.setBrowserExecutable('/usr/bin/chromium');
Config.setOverwriteOutput(true);
Config.overrideWebpackConfig((config) => ({
	...config,
	// the plugin's sources use ESM ".js" specifiers for TypeScript files
	resolve: {...config.resolve, extensionAlias: {'.js': ['.ts', '.tsx', '.js']}},
}));
