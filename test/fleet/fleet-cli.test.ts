/**
 * `npm run fleet` as a user calls it: arguments it does not know, or values that are not positive
 * numbers, exit 2 with the usage before anything starts.
 */
import { describe, expect, it } from 'vitest';
import { runNpm } from '../integration/local/run-npm.js';

describe('npm run fleet', () => {
  it('exits 2 with the usage for an argument it does not know', async () => {
    const run = await runNpm('fleet', ['--containers', '5', '--bogus'], {});
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("Unknown option '--bogus'");
    expect(run.stderr).toContain('usage: npm run fleet --');
    expect(run.stdout).toBe('');
  });

  it('exits 2 naming the flag and the value when a number is not a positive number', async () => {
    const run = await runNpm('fleet', ['--rate', '0'], {});
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--rate must be a positive number, got "0"');
  });
});
