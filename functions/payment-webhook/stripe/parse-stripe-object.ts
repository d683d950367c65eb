// A namespace import lets esbuild keep only the zod in use; `import { z }` bundles every locale (~370 KB).
import type * as z from 'zod';
import { WebhookError } from '../webhook-error.js';

/**
 * Parses `json` with `schema`, or throws naming the first bad field under `prefix`.
 *
 * @throws {WebhookError} `WEBHOOK_EVENT_INVALID`, e.g. `stripe event field data.object.status is required`.
 */
export function parseOrThrow<T>(schema: z.ZodType<T>, json: unknown, prefix: readonly string[] = []): T {
  const result = schema.safeParse(json, { reportInput: true });
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = [...prefix, ...(issue?.path.map(String) ?? [])].join('.') || '(event)';
  const missing = issue?.code === 'invalid_type' && 'input' in issue && issue.input === undefined;
  const message = missing
    ? 'is required'
    : issue?.code === 'invalid_type' && !issue.message.startsWith('must') && !issue.message.startsWith('is ')
      ? `must be a ${issue.expected}`
      : (issue?.message ?? 'is invalid');
  // The cause is zod's error without the inputs: they are pieces of the payload, which may hold personal data.
  const cause = new Error(result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  throw new WebhookError('WEBHOOK_EVENT_INVALID', `stripe event field ${field} ${message}`, { cause });
}
