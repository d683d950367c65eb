import { describe, expect, it } from 'vitest';
import { SimulatedSqs } from '../reliability/simulated-sqs.js';
import { EVENT_SOURCE_MAPPING_DEFAULTS, SimulatedEventSourceMapping } from './event-source-mapping.js';

function world(maximumConcurrency: number | undefined, functionConcurrency = 1_000) {
  let now = 1_000_000;
  const queue = new SimulatedSqs({ visibilityTimeoutMs: 60_000, now: () => now });
  const mapping = new SimulatedEventSourceMapping({ maximumConcurrency, functionConcurrency });
  return { queue, mapping, now: () => now, advance: (ms: number) => (now += ms) };
}

const sendMany = (queue: SimulatedSqs, n: number) => Array.from({ length: n }, (_, i) => queue.send(`m${i}`));

describe('SimulatedEventSourceMapping', () => {
  it('starts with five batches and shares the visible messages among them', () => {
    const { queue, mapping, advance, now } = world(undefined);
    sendMany(queue, 10);
    advance(1_000);
    expect(mapping.poll(queue, now())).toEqual([]); // the batching window starts
    advance(1_000);
    const batches = mapping.poll(queue, now());
    expect(batches.map((b) => b.length)).toEqual([2, 2, 2, 2, 2]);
  });

  it('scales up by 300 batches a minute while every batch comes back full, to MaximumConcurrency at most', () => {
    const { queue, mapping, advance, now } = world(20);
    sendMany(queue, 5_000);
    expect(mapping.poll(queue, now())).toHaveLength(5);
    advance(1_000);
    expect(mapping.poll(queue, now())).toHaveLength(10); // +5 in one second
    advance(1_000);
    expect(mapping.poll(queue, now())).toHaveLength(15);
    advance(10_000);
    expect(mapping.poll(queue, now())).toHaveLength(20);
    advance(10_000);
    expect(mapping.poll(queue, now()).every((b) => b.length === EVENT_SOURCE_MAPPING_DEFAULTS.batchSize)).toBe(true);
    expect(mapping.batchesInParallel).toBe(20);
  });

  it('is capped by the function\'s concurrency when it has no MaximumConcurrency', () => {
    const { mapping } = world(undefined, 50);
    expect(mapping.concurrencyCap).toBe(50);
  });

  it('hands out nothing once disabled, reporting Disabling, then Disabled, and polls again once enabled', () => {
    const { queue, mapping, advance, now } = world(10);
    sendMany(queue, 100);
    const update = mapping.update({ UUID: mapping.options.uuid, Enabled: false }, now());
    expect(update.State).toBe('Disabling');
    expect(mapping.poll(queue, now())).toHaveLength(5); // still draining what it polls
    advance(1_000);
    expect(mapping.get(mapping.options.uuid, now()).State).toBe('Disabled');
    expect(mapping.poll(queue, now())).toEqual([]);
    advance(60_000);
    mapping.update({ UUID: mapping.options.uuid, Enabled: true }, now());
    advance(1_000);
    expect(mapping.get(mapping.options.uuid, now()).State).toBe('Enabled');
    expect(mapping.poll(queue, now()).length).toBeGreaterThan(0);
    expect(mapping.disabledMs(now())).toBe(61_000);
  });

  it('answers ResourceNotFoundException for another mapping', () => {
    const { mapping, now } = world(10);
    expect(() => mapping.get('00000000-0000-0000-0000-000000000000', now())).toThrow(expect.objectContaining({ name: 'ResourceNotFoundException' }));
  });
});
