import { describe, expect, it } from 'vitest';
import { changeVisibilityIn, SimulatedSqs } from './simulated-sqs.js';

function queueAt(options: ConstructorParameters<typeof SimulatedSqs>[0] = {}) {
  let now = 1_000_000;
  const queue = new SimulatedSqs({ visibilityTimeoutMs: 30_000, maxReceiveCount: 3, ...options, now: () => now });
  return { queue, advance: (ms: number) => (now += ms) };
}

describe('SimulatedSqs', () => {
  it('hides a received message for the visibility timeout and counts its receives', () => {
    const { queue, advance } = queueAt();
    queue.send('a');
    expect(queue.receive(10).map((r) => r.attributes.ApproximateReceiveCount)).toEqual(['1']);
    expect(queue.receive(10)).toEqual([]);
    advance(30_000);
    expect(queue.receive(10).map((r) => r.attributes.ApproximateReceiveCount)).toEqual(['2']);
  });

  it('moves a message to the DLQ when it is due again after maxReceiveCount receives', () => {
    const { queue, advance } = queueAt();
    queue.send('a');
    for (let i = 0; i < 3; i++) {
      expect(queue.receive(1)).toHaveLength(1);
      advance(30_000);
    }
    expect(queue.receive(1)).toEqual([]);
    expect(queue.deadLetters.map((m) => m.body)).toEqual(['a']);
    expect(queue.depth).toBe(0);
  });

  it('ChangeMessageVisibility hides a message for the given seconds, and 0 makes it visible at once', () => {
    const { queue, advance } = queueAt();
    queue.send('a');
    queue.send('b');
    const [a, b] = queue.receive(2);
    queue.changeVisibility(a!.receiptHandle, 3_600);
    queue.changeVisibility(b!.receiptHandle, 0);
    expect(queue.receive(10).map((r) => r.body)).toEqual(['b']);
    advance(3_599_000);
    expect(queue.receive(10).map((r) => r.body)).toEqual(['b']);
    advance(1_000);
    expect(queue.receive(10).map((r) => r.body)).toEqual(['a']);
    expect(queue.stats.visibilityChanged).toBe(2);
  });

  it('refuses more than 12 hours, a stale receipt handle and a message not in flight, as SQS does', () => {
    const { queue, advance } = queueAt();
    queue.send('a');
    const [first] = queue.receive(1);
    expect(() => queue.changeVisibility(first!.receiptHandle, 43_201)).toThrow(expect.objectContaining({ name: 'InvalidParameterValue' }));
    advance(30_000);
    queue.receive(1);
    expect(() => queue.changeVisibility(first!.receiptHandle, 10)).toThrow(expect.objectContaining({ name: 'ReceiptHandleIsInvalid' }));
    const { queue: other } = queueAt();
    other.send('b');
    const [b] = other.receive(1);
    other.changeVisibility(b!.receiptHandle, 0);
    expect(() => other.changeVisibility(b!.receiptHandle, 10)).toThrow(expect.objectContaining({ name: 'MessageNotInflight' }));
  });

  it('reports each failed entry of a ChangeMessageVisibilityBatch in Failed', () => {
    const { queue } = queueAt();
    queue.send('a');
    const [a] = queue.receive(1);
    const output = changeVisibilityIn(queue).batch({
      QueueUrl: 'q',
      Entries: [
        { Id: 'ok', ReceiptHandle: a!.receiptHandle, VisibilityTimeout: 60 },
        { Id: 'bad', ReceiptHandle: 'nope', VisibilityTimeout: 60 },
      ],
    });
    expect(output.Successful).toEqual([{ Id: 'ok' }]);
    expect(output.Failed).toEqual([expect.objectContaining({ Id: 'bad', Code: 'ReceiptHandleIsInvalid', SenderFault: true })]);
  });

  it('drops a message older than the retention period', () => {
    const { queue, advance } = queueAt({ retentionMs: 60_000 });
    queue.send('a');
    advance(60_000);
    expect(queue.receive(1)).toEqual([]);
    expect(queue.stats.expired).toBe(1);
    expect(queue.depth).toBe(0);
  });

  it('finds the visible messages among many hidden ones, earliest visible first', () => {
    const { queue, advance } = queueAt();
    for (let i = 0; i < 1_000; i++) queue.send(`m${i}`);
    expect(queue.receive(990)).toHaveLength(990);
    expect(queue.receive(100).map((r) => r.body)).toEqual(Array.from({ length: 10 }, (_, i) => `m${990 + i}`));
    advance(30_000);
    expect(queue.receive(1).map((r) => r.body)).toEqual(['m0']);
  });
});
