import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from './simulated-clock.js';

const START = Date.parse('2026-01-01T00:00:00Z');

describe('SimulatedClock', () => {
  let uninstall: (() => void) | undefined;
  afterEach(() => uninstall?.());

  it('flows at the real rate from its start', async () => {
    const clock = new SimulatedClock(START);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(clock.now() - START).toBeGreaterThanOrEqual(25);
    expect(clock.now() - START).toBeLessThan(1_000);
  });

  it('skips forward to a later time and never moves back', () => {
    const clock = new SimulatedClock(START);
    clock.skipTo(START + 3_600_000);
    expect(clock.now()).toBeGreaterThanOrEqual(START + 3_600_000);
    const now = clock.now();
    clock.skipTo(START);
    expect(clock.now()).toBeGreaterThanOrEqual(now);
  });

  it('makes Date.now(), new Date() and Date() read the simulated time once installed, and puts the real Date back', () => {
    const RealDate = Date;
    const clock = new SimulatedClock(START);
    uninstall = clock.install();
    expect(Date.now() - START).toBeLessThan(1_000);
    expect(new Date().getTime() - START).toBeLessThan(1_000);
    expect(Date()).toBe(new RealDate(clock.now()).toString());
    expect(new Date(0).getTime()).toBe(0);
    expect(new Date('2020-01-01T00:00:00Z').toISOString()).toBe('2020-01-01T00:00:00.000Z');
    expect(Date.UTC(2020, 0, 1)).toBe(RealDate.UTC(2020, 0, 1));
    expect(new Date()).toBeInstanceOf(RealDate);
    expect(new RealDate()).toBeInstanceOf(Date);
    uninstall();
    uninstall = undefined;
    expect(Date).toBe(RealDate);
    expect(Math.abs(Date.now() - new RealDate().getTime())).toBeLessThan(1_000);
  });
});
