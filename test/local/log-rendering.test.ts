import { describe, expect, it } from 'vitest';
import { logFormatFor, prettyLineWriter, renderLogLine } from './log-rendering.js';

// Lines as the functions write them (copied from a serve run): Powertools Logger, then EMF.
const MESH_CALL =
  '{"level":"DEBUG","message":"mesh call","timestamp":"2026-12-02T05:21:32.054Z","service":"mesh-health","cold_start":false,"function_arn":"arn:aws:lambda:us-east-1:000000000000:function:mesh-health","function_memory_size":"256","function_name":"mesh-health","function_request_id":"907bb217-b704-4526-ba7e-9b19454b9317","sampling_rate":0,"correlation_id":"1f060334-42c1-41e0-b93d-8e9f559b216f","meshService":"contact-service","method":"Check","peer":"spiffe://jia.app/contact-service","code":"OK","durationMs":345,"attempt":1,"breakerState":"closed"}';
const POISONED =
  '{"level":"ERROR","message":"poisoned record: it will reach the DLQ","timestamp":"2026-12-02T05:22:00.100Z","service":"grant-entitlements","messageId":"m-1","receiveCount":2,"error":{"name":"PoisonedRecordError","location":"file.ts:1","message":"record m-1 body is not JSON","stack":"…","code":"GRANT_RECORD_NOT_JSON"}}';
const EMF =
  '{"_aws":{"Timestamp":1796188892066,"CloudWatchMetrics":[{"Namespace":"PaymentFunctions","Dimensions":[["service"]],"Metrics":[{"Name":"service_up","Unit":"None"}]}]},"service":"contact-service","service_up":1}';

describe('log lines rendered for people', () => {
  it('puts time, level, function and message first, then the fields that matter, without Powertools\' own', () => {
    const line = renderLogLine(MESH_CALL, { colour: false });

    expect(line).toBe(
      '05:21:32.054 DEBUG mesh-health mesh call  meshService=contact-service method=Check peer=spiffe://jia.app/contact-service code=OK durationMs=345 attempt=1 breakerState=closed',
    );
  });

  it('shows an error as its code and message, never its stack', () => {
    const line = renderLogLine(POISONED, { colour: false });

    expect(line).toContain('ERROR grant-entitlements poisoned record: it will reach the DLQ');
    expect(line).toContain('error="GRANT_RECORD_NOT_JSON: record m-1 body is not JSON"');
    expect(line).not.toContain('stack');
  });

  it('shows an EMF line as its metrics, by the function that wrote it (its service key is a dimension)', () => {
    expect(renderLogLine(EMF, { colour: false, functionName: 'mesh-health' })).toBe('05:21:32.066 METRIC mesh-health service=contact-service service_up=1');
  });

  it('leaves text that is not a JSON object as it is', () => {
    expect(renderLogLine('[invoke] pki: reusing the dev SVIDs', { colour: false })).toBe('[invoke] pki: reusing the dev SVIDs');
    expect(renderLogLine('[1,2]', { colour: false })).toBe('[1,2]');
  });

  it('renders whole lines only, however the writes split them', () => {
    const out: string[] = [];
    const write = prettyLineWriter((text) => out.push(text), { colour: false });

    write(POISONED.slice(0, 40));
    write(`${POISONED.slice(40)}\nplain`);
    write(' text\n');

    expect(out).toEqual([`${renderLogLine(POISONED, { colour: false })}\n`, 'plain text\n']);
  });

  it('is pretty on a terminal and JSON when piped, unless PAYMENT_FUNCTIONS_LOG_FORMAT says otherwise', () => {
    expect(logFormatFor({ isTTY: true }, {})).toBe('pretty');
    expect(logFormatFor({ isTTY: false }, {})).toBe('json');
    expect(logFormatFor({ isTTY: true }, { PAYMENT_FUNCTIONS_LOG_FORMAT: 'json' })).toBe('json');
    expect(logFormatFor({}, { PAYMENT_FUNCTIONS_LOG_FORMAT: 'pretty' })).toBe('pretty');
  });
});
