import { describe, expect, it } from 'vitest';
import { INVOKE_USAGE, parseInvokeArgs, UsageError } from './invoke-options.js';

describe('parseInvokeArgs --as', () => {
  it('reads the caller\'s SPIFFE ID for get-user-info', () => {
    const parsed = parseInvokeArgs(['get-user-info', '--as', 'spiffe://jia.app/family-service']);

    expect(parsed.help === false && parsed.options.as).toBe('spiffe://jia.app/family-service');
  });

  it.each([
    [['mesh-health', '--as', 'spiffe://jia.app/family-service'], '--as applies to get-user-info only'],
    [['get-user-info', '--as', 'family-service'], '--as must be a workload\'s SPIFFE ID'],
    [['get-user-info', '--as', 'spiffe://jia.app'], '--as must be a workload\'s SPIFFE ID'],
    [['get-user-info', '--as'], '--as needs a value'],
  ])('refuses %j', (args, message) => {
    expect(() => parseInvokeArgs(args)).toThrow(UsageError);
    expect(() => parseInvokeArgs(args)).toThrow(message);
  });

  it('is documented in the usage', () => {
    expect(INVOKE_USAGE).toContain('--as <spiffe id>');
  });
});
