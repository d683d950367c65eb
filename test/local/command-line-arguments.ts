/**
 * The argument walk the local CLIs (`invoke`, `serve`) share: each argument in turn, with its
 * value taken inline (`--flag=value`) or from the next argument only when the flag asks for one.
 */

/** A command line the CLI cannot run; it exits 2 with the usage. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * Calls `visit` with each argument's flag (the part before `=` of a `--flag=value`, else the whole
 * argument), a `value()` that takes the flag's value, and the argument as given.
 *
 * @throws {UsageError} `<flag> needs a value` when `value()` finds none.
 */
export function forEachArgument(args: readonly string[], visit: (flag: string, value: () => string, arg: string) => void): void {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const [flag, inline] = eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    visit(
      flag,
      () => {
        const next = inline ?? args[++i];
        if (next === undefined) throw new UsageError(`${flag} needs a value`);
        return next;
      },
      arg,
    );
  }
}
