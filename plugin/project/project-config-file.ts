import {existsSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {z} from 'zod';
import {FateZeroError} from '../errors/fatezero-error.js';

/** The project's own settings file, read from the project root (the folder the commands run in). */
export const PROJECT_CONFIG_FILE = 'fatezero.config.json';

const nonEmpty = z.string().trim().min(1, {error: 'a non-empty string'});

/**
 * What `fatezero.config.json` may hold. Paths are relative to the file's folder. Strict: a
 * misspelt key is an error, not a silently ignored setting.
 */
export const projectConfigFileSchema = z.strictObject({
	$schema: z.string().optional(),
	model: nonEmpty.optional(),
	executionProvider: z.enum(['cpu', 'cuda', 'webgpu']).optional(),
	computeType: z.enum(['float32', 'float16']).optional(),
	cacheDir: nonEmpty.optional(),
	publicDir: nonEmpty.optional(),
	frameBaseUrl: nonEmpty.optional(),
	threads: z.number().int().min(1).optional(),
});

export type ProjectConfigFile = z.infer<typeof projectConfigFileSchema>;

/** The parsed config file of `projectRoot`, or null when it has none. Every problem is reported at once. */
export const readProjectConfigFile = (projectRoot: string): {file: string; values: ProjectConfigFile} | null => {
	const file = path.join(projectRoot, PROJECT_CONFIG_FILE);
	if (!existsSync(file)) return null;
	let json: unknown;
	try {
		json = JSON.parse(readFileSync(file, 'utf8'));
	} catch (error) {
		throw new FateZeroError('INVALID_OPTION', `${file} is not valid JSON (${(error as Error).message}). Fix it or delete it; see the README section "Project configuration".`);
	}
	const parsed = projectConfigFileSchema.safeParse(json);
	if (!parsed.success) {
		const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
		throw new FateZeroError(
			'INVALID_OPTION',
			`${file} is invalid:\n  - ${problems.join('\n  - ')}\nKnown keys: ${Object.keys(projectConfigFileSchema.shape).filter((k) => k !== '$schema').join(', ')}.`,
		);
	}
	return {file, values: parsed.data};
};
