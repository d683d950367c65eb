import { describe, expect, it } from 'vitest';
import { deadlineExecutor, type AttemptInfo } from '../../../shared/transport/call-executor.js';

const CALL = { method: 'GetUserInfo', idempotent: true };

describe('deadlineExecutor', () => {
  it('runs one attempt with a deadline timeoutSeconds from now', async () => {
    const seen: AttemptInfo[] = [];
    const run = deadlineExecutor({ timeoutSeconds: 3, now: () => 1_000_000 });

    const result = await run(CALL, async (info) => {
      seen.push(info);
      return 'ok';
    });

    expect(result).toBe('ok');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ attempt: 1, deadline: new Date(1_003_000) });
    expect(seen[0]!.signal.aborted).toBe(false);
  });

  it('defaults to a 10 s deadline', async () => {
    const run = deadlineExecutor({ now: () => 0 });

    expect(await run(CALL, async (info) => info.deadline.getTime())).toBe(10_000);
  });

  it('rejects with whatever the attempt rejected with, untouched', async () => {
    const raw = Object.assign(new Error('14 UNAVAILABLE'), { code: 14 });

    await expect(deadlineExecutor()(CALL, () => Promise.reject(raw))).rejects.toBe(raw);
  });
});
