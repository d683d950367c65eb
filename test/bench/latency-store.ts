/**
 * The benchmark's latency-bound DynamoDB: `UpdateItem` as DynamoDB answers it, after a fixed
 * delay standing for DynamoDB's network latency as a Lambda sees it (a few ms a write, no
 * throughput limit at 50 items), where dynalite is bound by its own CPU on one thread.
 *
 * Each request is handled as DynamoDB would, so that the SDK does all of its work on both sides of
 * the wire: the JSON request is parsed; every `#name` and `:value` the expressions use must be
 * defined and every one defined must be used (DynamoDB's `ValidationException` rules); the
 * condition is evaluated over the stored item and the update applied to it, at once; the answer
 * follows after the delay: `{}`, or `ConditionalCheckFailedException` carrying the item when
 * `ReturnValuesOnConditionCheckFailure` is `ALL_OLD`, with DynamoDB's headers. So a write that
 * answers success took effect, and a redelivery of the same event answers a failed condition.
 *
 * It understands the expressions the entitlements store writes, and refuses anything else with a
 * `ValidationException` (a changed expression fails the benchmark, never passes unchecked):
 * conditions are `OR`s of `attribute_not_exists(#a)` and of `(`…`)` groups of `AND`ed
 * comparisons `#a <op> :v`; updates are `SET #a = :v` or `#a = if_not_exists(#b, :v)`, then
 * optionally `REMOVE #a, …`. A comparison with a missing attribute is false. Strings compare in
 * code-unit order (byte order for the ASCII the store writes), numbers numerically.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { crc32 } from 'node:zlib';

type AttributeValue = { S: string } | { N: string };
type Item = Record<string, AttributeValue>;

interface UpdateItemRequest {
  TableName?: unknown;
  Key?: unknown;
  UpdateExpression?: unknown;
  ConditionExpression?: unknown;
  ExpressionAttributeNames?: unknown;
  ExpressionAttributeValues?: unknown;
  ReturnValuesOnConditionCheckFailure?: unknown;
}

/** A request DynamoDB would refuse: answered 400 with `__type` and `message`. */
class DynamoFault extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly item?: Item,
  ) {
    super(message);
  }
}

const VALIDATION = 'com.amazon.coral.validate#ValidationException';
const CONDITION_FAILED = 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException';
const NOT_FOUND = 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException';

export interface LatencyStoreOptions {
  /** The one table it holds; other names answer `ResourceNotFoundException`. */
  tableName: string;
  /** How long after a request its answer is sent. */
  latencyMs: number;
}

export interface LatencyStore {
  /** `UpdateItem`s received, whatever they answered. */
  readonly writes: number;
  /** Answers one `DynamoDB_20120810.UpdateItem` request whose body is `body`. */
  updateItem(body: string, res: ServerResponse): void;
}

/** A latency-bound DynamoDB holding one table in memory (see the module comment). */
export function latencyStore(options: LatencyStoreOptions): LatencyStore {
  const items = new Map<string, Item>();
  let writes = 0;
  const answer = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    setTimeout(() => {
      res.writeHead(status, {
        'content-type': 'application/x-amz-json-1.0',
        'x-amzn-requestid': randomUUID(),
        'x-amz-crc32': String(crc32(text)),
      });
      res.end(text);
    }, options.latencyMs);
  };
  return {
    get writes() {
      return writes;
    },
    updateItem(body, res) {
      writes++;
      try {
        updateItem(items, options.tableName, JSON.parse(body) as UpdateItemRequest);
        answer(res, 200, {});
      } catch (error) {
        if (!(error instanceof DynamoFault)) throw error;
        answer(res, 400, { __type: error.type, message: error.message, ...(error.item ? { Item: error.item } : {}) });
      }
    },
  };
}

function updateItem(items: Map<string, Item>, tableName: string, request: UpdateItemRequest): void {
  if (request.TableName !== tableName) {
    throw new DynamoFault(NOT_FOUND, 'Requested resource not found');
  }
  const key = attributeMap(request.Key, 'Key');
  const names = stringMap(request.ExpressionAttributeNames, 'ExpressionAttributeNames');
  const values = attributeMap(request.ExpressionAttributeValues, 'ExpressionAttributeValues');
  const update = requiredString(request.UpdateExpression, 'UpdateExpression');
  const condition = request.ConditionExpression === undefined ? undefined : requiredString(request.ConditionExpression, 'ConditionExpression');
  checkPlaceholders([update, condition ?? ''].join(' '), names, values);

  const id = JSON.stringify(Object.entries(key).sort(([a], [b]) => (a < b ? -1 : 1)));
  const stored = items.get(id);
  if (condition !== undefined && !conditionHolds(condition, stored, names, values)) {
    const old = request.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' ? stored : undefined;
    throw new DynamoFault(CONDITION_FAILED, 'The conditional request failed', old);
  }
  items.set(id, applyUpdate(update, { ...stored, ...key }, names, values));
}

function checkPlaceholders(expressions: string, names: Record<string, string>, values: Item): void {
  const usedNames = new Set(expressions.match(/#\w+/g));
  const usedValues = new Set(expressions.match(/:\w+/g));
  for (const name of usedNames) if (!(name in names)) throw new DynamoFault(VALIDATION, `An expression attribute name used in the document path is not defined; attribute name: ${name}`);
  for (const value of usedValues) if (!(value in values)) throw new DynamoFault(VALIDATION, `An expression attribute value used in expression is not defined; attribute value: ${value}`);
  for (const name of Object.keys(names)) if (!usedNames.has(name)) throw new DynamoFault(VALIDATION, `Value provided in ExpressionAttributeNames unused in expressions: keys: {${name}}`);
  for (const value of Object.keys(values)) if (!usedValues.has(value)) throw new DynamoFault(VALIDATION, `Value provided in ExpressionAttributeValues unused in expressions: keys: {${value}}`);
}

function conditionHolds(condition: string, item: Item | undefined, names: Record<string, string>, values: Item): boolean {
  return condition.split(' OR ').some((clause) => {
    const notExists = /^attribute_not_exists\((#\w+)\)$/.exec(clause.trim());
    if (notExists) return item?.[names[notExists[1]!]!] === undefined;
    const group = /^\((.+)\)$/.exec(clause.trim());
    if (!group) throw new DynamoFault(VALIDATION, `unsupported condition clause: ${clause}`);
    return group[1]!.split(' AND ').every((term) => {
      const comparison = /^(#\w+) (<>|<=|>=|<|>|=) (:\w+)$/.exec(term.trim());
      if (!comparison) throw new DynamoFault(VALIDATION, `unsupported comparison: ${term}`);
      const [, name, op, value] = comparison;
      const order = compare(item?.[names[name!]!], values[value!]!);
      if (order === undefined) return false;
      return { '<': order < 0, '<=': order <= 0, '>': order > 0, '>=': order >= 0, '=': order === 0, '<>': order !== 0 }[op!]!;
    });
  });
}

/** Negative, zero or positive as `a` comes before, with or after `b`; undefined when `a` is missing or of another type. */
function compare(a: AttributeValue | undefined, b: AttributeValue): number | undefined {
  if (a === undefined) return undefined;
  if ('N' in a && 'N' in b) return Number(a.N) - Number(b.N);
  if ('S' in a && 'S' in b) return a.S === b.S ? 0 : a.S < b.S ? -1 : 1;
  return undefined;
}

function applyUpdate(update: string, item: Item, names: Record<string, string>, values: Item): Item {
  const parsed = /^SET (.+?)(?: REMOVE (.+))?$/.exec(update);
  if (!parsed) throw new DynamoFault(VALIDATION, `unsupported update expression: ${update}`);
  const next = { ...item };
  // Commas between actions, not the one inside if_not_exists(…, …).
  for (const action of parsed[1]!.split(/,\s*(?![^(]*\))/)) {
    const plain = /^(#\w+) = (:\w+)$/.exec(action.trim());
    const ifNotExists = /^(#\w+) = if_not_exists\((#\w+), (:\w+)\)$/.exec(action.trim());
    if (plain) next[names[plain[1]!]!] = values[plain[2]!]!;
    else if (ifNotExists) next[names[ifNotExists[1]!]!] = item[names[ifNotExists[2]!]!] ?? values[ifNotExists[3]!]!;
    else throw new DynamoFault(VALIDATION, `unsupported SET action: ${action}`);
  }
  for (const name of parsed[2]?.split(',') ?? []) delete next[names[name.trim()]!];
  return next;
}

function requiredString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw new DynamoFault(VALIDATION, `${field} must be a non-empty string`);
  return value;
}

function stringMap(value: unknown, field: string): Record<string, string> {
  if (typeof value !== 'object' || value === null || Object.values(value).some((v) => typeof v !== 'string')) {
    throw new DynamoFault(VALIDATION, `${field} must map placeholders to attribute names`);
  }
  return value as Record<string, string>;
}

function attributeMap(value: unknown, field: string): Item {
  const valid = (v: unknown) =>
    typeof v === 'object' && v !== null && Object.keys(v).length === 1 &&
    (typeof (v as { S?: unknown }).S === 'string' || (typeof (v as { N?: unknown }).N === 'string' && Number.isFinite(Number((v as { N: string }).N))));
  if (typeof value !== 'object' || value === null || !Object.values(value).every(valid)) {
    throw new DynamoFault(VALIDATION, `${field} must hold S or N attribute values`);
  }
  return value as Item;
}
