/**
 * `${VAR}` and `${VAR:-default}` in a config file's string values, as a shell expands them:
 * `:-` uses the default when the variable is unset or empty. `$$` is a literal `$`.
 */
const REFERENCE = /\$\$|\$\{([^}]*)\}|\$\{/g;
const EXPRESSION = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

/**
 * The result of expanding one value: the text, or why each reference could not be expanded
 * (naming the variable or the reference; the caller names the key it sits in).
 */
export type Interpolated = { ok: true; value: string } | { ok: false; problems: string[] };

/** Expands every `${…}` reference in `text` from `env`; reports every failure, not just the first. */
export function interpolate(text: string, env: NodeJS.ProcessEnv): Interpolated {
  const problems: string[] = [];
  const value = text.replace(REFERENCE, (match, expression: string | undefined) => {
    if (match === '$$') return '$';
    if (expression === undefined) {
      problems.push(`reference ${match} is not closed with }`);
      return match;
    }
    const parsed = EXPRESSION.exec(expression);
    if (parsed === null) {
      problems.push(`reference ${match} must be \${NAME} or \${NAME:-default}`);
      return match;
    }
    const [, name = '', fallback] = parsed;
    const current = env[name];
    if (fallback !== undefined) return current === undefined || current === '' ? fallback : current;
    if (current === undefined) {
      problems.push(`variable ${name} is not set and has no default`);
      return match;
    }
    return current;
  });
  return problems.length === 0 ? { ok: true, value } : { ok: false, problems };
}
