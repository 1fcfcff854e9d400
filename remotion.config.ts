// Remotion settings for the demo project (`npx remotion studio|render` read this file; the
// `fatezero` commands pass the same settings through the Node APIs).
import {Config} from '@remotion/cli/config';
import {existsSync} from 'node:fs';

// The FateZero cache is the public dir: compositions load edited frames with staticFile().
Config.setPublicDir('cache');
if (existsSync('/usr/bin/chromium')) Config.setBrowserExecutable('/usr/bin/chromium');
Config.setOverwriteOutput(true);
Config.overrideWebpackConfig((config) => ({
	...config,
	// the plugin's sources use ESM ".js" specifiers for TypeScript files
	resolve: {...config.resolve, extensionAlias: {'.js': ['.ts', '.tsx', '.js']}},
}));
