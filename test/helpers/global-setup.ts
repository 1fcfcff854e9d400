import {rmSync} from 'node:fs';

// Commands run from this repository publish into a public dir; the tests point it (through
// vitest.config.ts) at a temporary folder, removed when the run ends.
export default function setup(): () => void {
	return () => {
		if (process.env.FATEZERO_TEST_PUBLIC_DIR) rmSync(process.env.FATEZERO_TEST_PUBLIC_DIR, {recursive: true, force: true});
	};
}
