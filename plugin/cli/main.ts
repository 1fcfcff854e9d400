import {FateZeroError} from '../errors/fatezero-error.js';
import {cacheCommand, CACHE_HELP} from './cache-command.js';
import {doctorCommand, DOCTOR_HELP} from './doctor-command.js';
import {editCommand, EDIT_HELP} from './edit-command.js';
import {formatCliError} from './format-cli-error.js';
import {promptsCommand, PROMPTS_HELP} from './prompts-command.js';
import {prerenderCommand, PRERENDER_HELP} from './prerender-command.js';
import {renderCommand, RENDER_HELP} from './render-command.js';
import {runCommand, RUN_HELP} from './run-command.js';
import {studioCommand, STUDIO_HELP} from './studio-command.js';
import {workerCommand, WORKER_HELP} from './worker-command.js';

const HELP = `fatezero — FateZero video editing for Remotion

Usage: fatezero <command> [options]

Commands:
  cache      List, verify and garbage-collect the cache (ls | verify | gc).
  doctor     Check the platform, execution providers and a model; optionally reconstruct frames.
  edit       Edit a clip with text prompts (FateZero), from flags or an official FateZero config.
  run        Run one clip descriptor (clip.json) through import, inversion, editing and the cache.
  prerender  Compute the FateZero clips a Remotion composition needs into the cache.
  render     Pre-render the clips, then render the composition with Remotion.
  prompts    Show how a source/target prompt pair tokenizes, aligns and which controller it gets.
  studio     Start Remotion Studio plus the job server that computes missing clips with a progress card.
  worker     A GPU worker for distributed runs: takes jobs from a Redis queue, shares results through a store.

Run "fatezero <command> --help" for a command's options.
Environment: FATEZERO_MODEL (default model folder), FATEZERO_CACHE_DIR (default cache directory).`;

const COMMANDS: Record<string, {run: (args: string[]) => Promise<number>; help: string}> = {
	cache: {run: cacheCommand, help: CACHE_HELP},
	doctor: {run: doctorCommand, help: DOCTOR_HELP},
	edit: {run: editCommand, help: EDIT_HELP},
	prompts: {run: promptsCommand, help: PROMPTS_HELP},
	prerender: {run: prerenderCommand, help: PRERENDER_HELP},
	render: {run: renderCommand, help: RENDER_HELP},
	run: {run: runCommand, help: RUN_HELP},
	studio: {run: studioCommand, help: STUDIO_HELP},
	worker: {run: workerCommand, help: WORKER_HELP},
};

export const main = async (argv: string[]): Promise<number> => {
	const [name, ...args] = argv;
	if (!name || name === '--help' || name === '-h' || name === 'help') {
		console.log(HELP);
		return name ? 0 : 2;
	}
	const command = COMMANDS[name];
	if (!command) {
		console.error(`✖ Unknown command "${name}". Commands: ${Object.keys(COMMANDS).join(', ')}. Run "fatezero --help".`);
		return 2;
	}
	if (args.includes('--help') || args.includes('-h')) {
		console.log(command.help);
		return 0;
	}
	try {
		return await command.run(args);
	} catch (error) {
		console.error(formatCliError(error));
		return error instanceof FateZeroError && error.code === 'INVALID_OPTION' ? 2 : 1;
	}
};

process.exitCode = await main(process.argv.slice(2));
