/**
 * Splits a command line into FateZero's own flags (parsed by node:util parseArgs) and the rest,
 * which is passed through untouched (e.g. to `remotion render`). A flag takes the next argument
 * as its value unless it is written `--flag=value`, is boolean (`booleanFlags`, or FateZero's own
 * booleans), or the next argument is itself a flag — the way minimist, Remotion's parser, reads
 * them. `shared` flags go to both sides.
 */
export const splitCliArgs = (
	args: readonly string[],
	own: Record<string, {type: 'string' | 'boolean'; multiple?: boolean}>,
	options: {booleanFlags: ReadonlySet<string>; shared?: readonly string[]},
): {own: string[]; passThrough: string[]; positionals: string[]} => {
	const result = {own: [] as string[], passThrough: [] as string[], positionals: [] as string[]};
	for (let i = 0; i < args.length; i++) {
		const arg = args[i];
		if (arg === '--') {
			result.passThrough.push(...args.slice(i + 1));
			break;
		}
		if (!arg.startsWith('-') || arg === '-') {
			result.positionals.push(arg);
			continue;
		}
		const name = arg.replace(/^-+/, '').split('=')[0];
		const ownSpec = own[name];
		const takesValue = !arg.includes('=') && (ownSpec ? ownSpec.type === 'string' : !options.booleanFlags.has(name) && !name.startsWith('no-')) && i + 1 < args.length && !args[i + 1].startsWith('--');
		const tokens = takesValue ? [arg, args[++i]] : [arg];
		if (ownSpec) result.own.push(...tokens);
		if (!ownSpec || options.shared?.includes(name)) result.passThrough.push(...tokens);
	}
	return result;
};
