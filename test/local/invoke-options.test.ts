import { describe, expect, it } from 'vitest';
import { FUNCTION_NAMES, INVOKE_USAGE, parseInvokeArgs, UsageError } from './invoke-options.js';

const optionsOf = (args: string[]) => {
  const parsed = parseInvokeArgs(args);
  if (parsed.help) throw new Error('expected options, got --help');
  return parsed.options;
};

describe('parseInvokeArgs', () => {
  it('reads a function with the defaults: default event, 30 s, signatures re-signed when stale', () => {
    expect(optionsOf(['get-user-info'])).toEqual({
      functionName: 'get-user-info',
      follow: false,
      reset: false,
      resign: 'auto',
      timeoutSeconds: 30,
    });
  });

  it('reads every option, in either --name value or --name=value form', () => {
    expect(optionsOf(['payment-webhook', '--event', 'e.json', '--follow', '--reset', '--no-resign', '--timeout=2.5'])).toEqual({
      functionName: 'payment-webhook',
      event: 'e.json',
      follow: true,
      reset: true,
      resign: 'never',
      timeoutSeconds: 2.5,
    });
    expect(optionsOf(['payment-webhook', '--resign']).resign).toBe('always');
  });

  it('takes - as the event (stdin), not as an option', () => {
    expect(optionsOf(['mesh-health', '--event', '-']).event).toBe('-');
  });

  it('asks for help with --help or -h, wherever it stands', () => {
    expect(parseInvokeArgs(['nope', '--help'])).toEqual({ help: true });
    expect(parseInvokeArgs(['-h'])).toEqual({ help: true });
  });

  it.each([
    [[], 'which function? name one'],
    [['nope'], 'unknown function "nope"'],
    [['get-user-info', 'extra'], 'unexpected argument "extra"'],
    [['get-user-info', '--verbose'], 'unknown option --verbose'],
    [['get-user-info', '--event'], '--event needs a value'],
    [['get-user-info', '--timeout', '0'], '--timeout must be a positive number of seconds, got "0"'],
    [['get-user-info', '--follow'], '--follow applies to payment-webhook only'],
  ])('refuses %j: %s', (args, message) => {
    expect(() => parseInvokeArgs(args)).toThrow(new UsageError(message));
  });
});

describe('INVOKE_USAGE', () => {
  it('documents every function and option', () => {
    for (const word of [...FUNCTION_NAMES, '--event', '--follow', '--reset', '--resign', '--no-resign', '--timeout', '--help']) {
      expect(INVOKE_USAGE).toContain(word);
    }
  });
});
