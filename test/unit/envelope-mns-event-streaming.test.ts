/**
 * The MNS event-streaming envelope as summarize gets it (reference §5.6): an array of CloudEvents,
 * one per message, whose `data.messageBody` is the message's text when the trigger has
 * IsBase64Decode: true and the body as sent (base64) when false. The trigger's setting decides,
 * never the text's look; each bad message fails alone. A message holds one result (format 1) or
 * several packed (format 2, shared/queue/result-packing.ts); each packed result is a record of its
 * own, named by its message id and index, and a bad one fails alone too.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RESULTS_QUEUE_TRIGGER } from '../../functions/summarize/results-trigger.ts';
import { parseSYaml } from '../../local/fc/s-yaml.ts';
import { encodeResult } from '../../shared/pipeline/result-message.ts';
import { resultMessagesEnvelope } from '../../shared/pipeline/summarize.ts';
import { packResultMessages, resultJson } from '../../shared/queue/result-packing.ts';
import type { InstanceResult } from '../../shared/runs/result.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

const result: InstanceResult = {
  version: 1, runId: 'r-20261123t100000-abc123', invokeId: 't-1', commandId: 'c-1', instanceId: 'i-demo000001', status: 'Success', exitCode: 0,
  errorCode: '', errorInfo: '', startTime: '2026-11-23T10:00:00Z', finishTime: '2026-11-23T10:00:01Z', output: 'up 3 days\n', outputBytes: 10, source: 'event',
};
const sent = encodeResult(result);
const text = Buffer.from(sent, 'base64').toString('utf8');

/** The documented record (reference §5.6) with a given body. */
function documented(messageBody: string, messageId = 'C6DB60D1574661357FA2272774450000') {
  return {
    id: 'c2g71017-6f65-fhcf-a814-a396fc8d0000',
    source: 'MNS-fleetrun-summarize-results-queue',
    specversion: '1.0',
    type: 'mns:Queue:SendMessage',
    datacontenttype: 'application/json; charset=utf-8',
    subject: 'acs:mns:cn-hangzhou:1234567890123456:queues/fleetrun-results',
    time: '2021-04-08T06:28:17.093Z',
    aliyunaccountid: '1234567890123456',
    aliyunpublishtime: '2021-10-15T07:06:34.028Z',
    aliyunoriginalaccountid: '1234567890123456',
    aliyuneventbusname: 'MNS-fleetrun-summarize-results-queue',
    aliyunregionid: 'cn-hangzhou',
    aliyunpublishaddr: '42.120.0.0',
    data: { requestId: '606EA3074344430D4C810000', messageId, messageBody },
  };
}

/** As the local FC host's event-streaming source pushes it (local/eventbridge/mns-source.ts). */
function localHost(messageBody: string, messageId: string) {
  return {
    id: '7d1f0a52-3c8e-4b4f-9a57-0c6f7f3e2a10',
    source: 'MNS-fleetrun-summarize-results-queue',
    specversion: '1.0',
    type: 'mns:Queue:SendMessage',
    datacontenttype: 'application/json; charset=utf-8',
    subject: 'acs:mns:cn-hangzhou:1234567890123456:queues/fleetrun-results',
    time: '2026-11-23T10:00:02.000Z',
    aliyunaccountid: '1234567890123456',
    aliyunpublishtime: '2026-11-23T10:00:02.000Z',
    aliyunoriginalaccountid: '1234567890123456',
    aliyuneventbusname: 'MNS-fleetrun-summarize-results-queue',
    aliyunregionid: 'cn-hangzhou',
    aliyunpublishaddr: '127.0.0.1',
    data: { requestId: '0C0E8C1F2B7A4B0C9D1E2F3A4B5C6D7E', messageId, messageBody },
  };
}

describe('Envelope: resultMessagesEnvelope (MNS event streaming)', () => {
  it('with IsBase64Decode: true reads the text EventBridge decoded, named by the message id', () => {
    const records = resultMessagesEnvelope({ isBase64Decode: true }).records([documented(text), localHost(text, 'm-2')]);
    expect(records).toEqual([
      { ok: true, id: 'C6DB60D1574661357FA2272774450000', record: result },
      { ok: true, id: 'm-2', record: result },
    ]);
  });

  it('with IsBase64Decode: false decodes the base64 the producer sent', () => {
    expect(resultMessagesEnvelope({ isBase64Decode: false }).records([documented(sent), localHost(sent, 'm-2')])).toEqual([
      { ok: true, id: 'C6DB60D1574661357FA2272774450000', record: result },
      { ok: true, id: 'm-2', record: result },
    ]);
  });

  it('decides by the trigger, not by the text: a body in the other form fails, it is not guessed at', () => {
    const [decodedTwice] = resultMessagesEnvelope({ isBase64Decode: true }).records([documented(sent, 'm-b64')]);
    expect(decodedTwice).toEqual({ ok: false, id: 'm-b64', reason: 'message body is not JSON' });
    const [notBase64] = resultMessagesEnvelope({ isBase64Decode: false }).records([documented(text, 'm-json')]);
    expect(notBase64).toEqual({ ok: false, id: 'm-json', reason: 'message body is not base64 (the trigger has IsBase64Decode: false)' });
  });

  it('fails each bad message alone with its reason, between good ones, in order', () => {
    const records = resultMessagesEnvelope({ isBase64Decode: true }).records([
      localHost(text, 'good-1'),
      localHost(JSON.stringify({ ...result, instanceId: 'bad/../key' }), 'bad-instance'),
      localHost('{"version":1', 'cut'),
      { ...localHost(text, 'x'), data: { messageId: 'no-body' } },
      { id: 'no-data' },
      { id: 'event-id-only', data: { messageBody: text } },
      null,
      localHost(text, 'good-2'),
    ]);
    expect(records.map((r) => (r.ok ? ['ok', r.id] : [r.id, r.reason]))).toEqual([
      ['ok', 'good-1'],
      ['bad-instance', expect.stringMatching(/^instanceId: /)],
      ['cut', 'message body is not JSON'],
      ['no-body', 'message body is not text'],
      ['no-data', expect.stringMatching(/^data: /)],
      ['ok', 'event-id-only'],
      ['(no id)', expect.stringMatching(/^\(event\): /)],
      ['ok', 'good-2'],
    ]);
  });

  it('reads a packed message as a record per result, named <message id>#<index>, beside a message of one result', () => {
    const others = [2, 3, 4].map((n) => ({ ...result, instanceId: `i-demo00000${n}` }));
    const [packed] = packResultMessages(others.map(resultJson));
    const packedText = Buffer.from(packed!, 'base64').toString('utf8');
    expect(JSON.parse(packedText)).toEqual({ v: 2, results: others });
    const expected = [
      { ok: true, id: 'm-1', record: result },
      ...others.map((record, i) => ({ ok: true, id: `m-2#${i}`, record })),
    ];
    expect(resultMessagesEnvelope({ isBase64Decode: true }).records([localHost(text, 'm-1'), documented(packedText, 'm-2')])).toEqual(expected);
    expect(resultMessagesEnvelope({ isBase64Decode: false }).records([localHost(sent, 'm-1'), documented(packed!, 'm-2')])).toEqual(expected);
  });

  it('fails a bad result in a packed message alone, keeping its neighbours; a bad frame fails its message once', () => {
    const good = (n: number) => ({ ...result, instanceId: `i-demo00000${n}` });
    const packed = (results: unknown[]) => JSON.stringify({ v: 2, results });
    const records = resultMessagesEnvelope({ isBase64Decode: true }).records([
      localHost(packed([good(1), { ...good(2), instanceId: 'bad/../key' }, 'not a result', good(3)]), 'mixed'),
      localHost(JSON.stringify({ v: 3, results: [good(4)] }), 'future'),
      localHost(JSON.stringify({ v: 2, results: {} }), 'no-array'),
      localHost(packed([]), 'empty'),
      localHost(text, 'alone'),
    ]);
    expect(records.map((r) => (r.ok ? ['ok', r.id, r.record.instanceId] : [r.id, r.reason]))).toEqual([
      ['ok', 'mixed#0', 'i-demo000001'],
      ['mixed#1', expect.stringMatching(/^instanceId: /)],
      ['mixed#2', expect.stringMatching(/^\(record\): /)],
      ['ok', 'mixed#3', 'i-demo000003'],
      ['future', expect.stringMatching(/^packed message: v: /)],
      ['no-array', expect.stringMatching(/^packed message: results: /)],
      ['empty', expect.stringMatching(/^packed message: results: /)],
      ['ok', 'alone', 'i-demo000001'],
    ]);
    // A reason names what was expected, never what a result held.
    for (const r of records) if (!r.ok) expect(r.reason).not.toMatch(/bad\/\.\.\/key|not a result|up 3 days/);
  });

  it("summarize reads bodies as s.yaml's results-queue trigger has EventBridge deliver them", async () => {
    const s = parseSYaml(await readFile(path.join(ROOT, 's.yaml'), 'utf8'), { env: {}, config: { AccountID: '1234567890123456' }, baseDir: ROOT });
    const summarize = s.functions.find((f) => f.props.functionName === 'fleetrun-summarize')!.props;
    const trigger = summarize.triggers.find((t) => t.triggerName === 'results-queue')!;
    const config = trigger.triggerConfig as { eventSourceConfig: { eventSourceParameters: { sourceMNSParameters: { IsBase64Decode?: boolean } } } };
    // Left out, EventBridge's default is true (reference §5.6).
    expect(config.eventSourceConfig.eventSourceParameters.sourceMNSParameters.IsBase64Decode ?? true).toBe(RESULTS_QUEUE_TRIGGER.isBase64Decode);
  });
});
