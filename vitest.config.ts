import os from 'node:os';
import path from 'node:path';
import {defineConfig} from 'vitest/config';

// Commands the tests run from this repository would publish into its public/; a temporary one instead.
const publicDir = path.join(os.tmpdir(), `fatezero-test-public-${process.pid}`);
process.env.FATEZERO_TEST_PUBLIC_DIR = publicDir;

export default defineConfig({
	test: {
		include: ['test/**/*.test.ts'],
		testTimeout: 120_000,
		hookTimeout: 120_000,
		pool: 'forks',
		globalSetup: ['test/helpers/global-setup.ts'],
		// The tests opt in to the generated random-weight model explicitly (a user's project without
		// a model gets MODEL_NOT_CONFIGURED); tests of that error clear it themselves.
		env: {FATEZERO_MODEL: 'generated:tiny', FATEZERO_PUBLIC_DIR: publicDir},
	},
});
