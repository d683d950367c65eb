/**
 * Log lines for people: the functions write one JSON object per line (Powertools Logger, EMF
 * metrics); on a terminal they are rendered as `time LEVEL function message key=value …`, with
 * colour. Piped output stays the raw JSON lines, for jq and log shippers.
 * `PAYMENT_FUNCTIONS_LOG_FORMAT=pretty|json` overrides the choice.
 */

export type LogFormat = 'pretty' | 'json';

/** `pretty` on a terminal, `json` when piped; the variable wins when set to either. */
export function logFormatFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): LogFormat {
  const forced = env.PAYMENT_FUNCTIONS_LOG_FORMAT?.trim().toLowerCase();
  if (forced === 'pretty' || forced === 'json') return forced;
  return stream.isTTY ? 'pretty' : 'json';
}

export interface RenderOptions {
  /** ANSI colours (a terminal). */
  colour: boolean;
  /** Shown when the line names no service. */
  functionName?: string;
}

/** Powertools' own keys: shown in the line's head, or noise for a person reading it. */
const HIDDEN_KEYS = new Set([
  'level',
  'message',
  'timestamp',
  'service',
  'sampling_rate',
  'xray_trace_id',
  'cold_start',
  'function_arn',
  'function_memory_size',
  'function_name',
  'function_request_id',
  'correlation_id',
]);

const LEVEL_COLOURS: Record<string, string> = { TRACE: '90', DEBUG: '90', INFO: '36', WARN: '33', ERROR: '31', CRITICAL: '35' };
const paint = (colour: boolean, code: string, text: string) => (colour ? `\u001b[${code}m${text}\u001b[0m` : text);

/** `key=value`, strings bare unless they hold spaces, objects as compact JSON; errors as `code: message`. */
function field(key: string, value: unknown): string {
  if (value !== null && typeof value === 'object' && 'message' in value && ('name' in value || 'code' in value)) {
    const e = value as { code?: unknown; name?: unknown; message?: unknown };
    return `${key}=${JSON.stringify(`${String(e.code ?? e.name)}: ${String(e.message)}`)}`;
  }
  if (typeof value === 'string') return `${key}=${/[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value}`;
  return `${key}=${JSON.stringify(value)}`;
}

/** The metrics of an EMF line, `name=value` each. */
function metricsOf(line: Record<string, unknown>): string {
  const aws = line._aws as { CloudWatchMetrics?: { Metrics?: { Name: string }[]; Dimensions?: string[][] }[] };
  const names = (aws.CloudWatchMetrics ?? []).flatMap((m) => (m.Metrics ?? []).map((x) => x.Name));
  const dimensions = (aws.CloudWatchMetrics ?? []).flatMap((m) => (m.Dimensions ?? []).flat());
  const dims = [...new Set(dimensions)].map((d) => field(d, line[d]));
  return [...dims, ...names.map((n) => field(n, line[n]))].join(' ');
}

/** Renders one line a function wrote; a line that is not a JSON object is returned as it is. */
export function renderLogLine(raw: string, options: RenderOptions): string {
  let line: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return raw;
    line = parsed as Record<string, unknown>;
  } catch {
    return raw;
  }
  const { colour } = options;
  const emfTime = (line._aws as { Timestamp?: unknown } | undefined)?.Timestamp;
  const time = (typeof line.timestamp === 'string' ? line.timestamp : new Date(typeof emfTime === 'number' ? emfTime : Date.now()).toISOString()).slice(11, 23);
  // EMF lines use `service` as a metric dimension (the mesh service), not as the writer's name.
  if (line._aws !== undefined) return `${paint(colour, '90', `${time} METRIC ${options.functionName ?? ''} ${metricsOf(line)}`)}`;
  const service = typeof line.service === 'string' ? line.service : (options.functionName ?? '');
  const level = String(line.level ?? 'INFO').toUpperCase();
  const fields = Object.entries(line)
    .filter(([key, value]) => !HIDDEN_KEYS.has(key) && value !== undefined)
    .map(([key, value]) => field(key, value));
  const head = `${paint(colour, '90', time)} ${paint(colour, LEVEL_COLOURS[level] ?? '0', level.padEnd(5))} ${paint(colour, '1', service)}`;
  return `${head} ${String(line.message ?? '')}${fields.length ? `  ${paint(colour, '90', fields.join(' '))}` : ''}`;
}

/**
 * A `write` for a stream that renders every complete JSON line it is given (text that is not a
 * JSON object passes through as it is); partial lines wait for their newline.
 */
export function prettyLineWriter(write: (text: string) => void, options: RenderOptions): (chunk: string) => void {
  let pending = '';
  return (chunk) => {
    pending += chunk;
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      write(`${renderLogLine(pending.slice(0, newline), options)}\n`);
      pending = pending.slice(newline + 1);
    }
  };
}
