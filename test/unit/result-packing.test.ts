/**
 * Results packed into the results queue's messages (shared/queue/result-packing.ts): as many whole
 * results a message as fit MNS's 65,536-byte body once base64-encoded, in order; one result alone
 * goes as it always did (format 1); and a result too large for the queue keeps its output in the
 * bucket (result-message.ts).
 */
import { describe, expect, it } from 'vitest';
import { encodeResult, resultMessage } from '../../shared/pipeline/result-message.ts';
import { MESSAGE_BODY_BYTES, MESSAGE_JSON_BYTES, packResultMessages, resultJson, resultMessageContent, type ResultJson } from '../../shared/queue/result-packing.ts';
import { runKeys } from '../../shared/runs/keys.ts';
import type { InstanceResult } from '../../shared/runs/result.ts';
import { MemoryStore } from '../support/memory-store.ts';

const RUN = 'r-20261123t100000-pack01';

function result(n: number, output = `ok ${n}\n`): InstanceResult {
  return {
    version: 1, runId: RUN, invokeId: 't-1', commandId: 'c-1', instanceId: `i-pack${String(n).padStart(6, '0')}`, status: 'Success', exitCode: 0,
    errorCode: '', errorInfo: '', startTime: '2026-11-23T10:00:00Z', finishTime: '2026-11-23T10:00:01Z', output, outputBytes: Buffer.byteLength(output), source: 'event',
  };
}

/** What summarize's trigger hands over for a body: its text, read as either format. */
function resultsIn(body: string): unknown[] {
  const content = resultMessageContent(JSON.parse(Buffer.from(body, 'base64').toString('utf8')));
  if ('refused' in content) throw new Error(content.refused);
  return 'one' in content ? [content.one] : [...content.several];
}

describe('packResultMessages', () => {
  it('sends one result alone as the message it always was', () => {
    expect(packResultMessages([resultJson(result(1))])).toEqual([encodeResult(result(1))]);
    expect(packResultMessages([])).toEqual([]);
  });

  it('packs small results into one message, in order', () => {
    const results = Array.from({ length: 100 }, (_, n) => result(n));
    const bodies = packResultMessages(results.map(resultJson));
    expect(bodies).toHaveLength(1);
    expect(JSON.parse(Buffer.from(bodies[0]!, 'base64').toString('utf8'))).toEqual({ v: 2, results });
  });

  it('fills each message as far as the next whole result allows, and never past 65,536 bytes of base64', () => {
    // Outputs of 1 to ~9 KB, some of them multi-byte: the limit counts UTF-8 bytes, not characters.
    const results = Array.from({ length: 60 }, (_, n) => result(n, (n % 3 === 0 ? 'é' : 'x').repeat(((n * 7919) % 9000) + 1000)));
    const json = results.map(resultJson);
    const bodies = packResultMessages(json);
    expect(bodies.length).toBeGreaterThan(1);
    expect(bodies.flatMap(resultsIn)).toEqual(results);
    let next = 0;
    for (const [i, body] of bodies.entries()) {
      expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MESSAGE_BODY_BYTES);
      next += resultsIn(body).length;
      if (i === bodies.length - 1) continue;
      // The first result of the next message would not have fitted in this one.
      const inThis = json.slice(next - resultsIn(body).length, next + 1);
      const wouldBe = `{"v":2,"results":[${inThis.join(',')}]}`;
      expect(Buffer.byteLength(wouldBe)).toBeGreaterThan(MESSAGE_JSON_BYTES);
    }
  });

  it('sends a result that fits only alone as format 1 between packed neighbours, and refuses one too large for any message', () => {
    const small = resultJson(result(1));
    // Exactly the most JSON a message takes: the output's length shifts outputBytes' digits, so settle it twice.
    let fill = MESSAGE_JSON_BYTES;
    for (let i = 0; i < 2; i++) fill -= Buffer.byteLength(resultJson(result(2, 'x'.repeat(fill)))) - MESSAGE_JSON_BYTES;
    const whole = resultJson(result(2, 'x'.repeat(fill)));
    expect(Buffer.byteLength(whole)).toBe(MESSAGE_JSON_BYTES);
    const bodies = packResultMessages([small, small, whole, small]);
    expect(bodies.map((b) => resultsIn(b).length)).toEqual([2, 1, 1]);
    expect(Buffer.byteLength(bodies[1]!)).toBe(MESSAGE_BODY_BYTES);
    expect(bodies[1]).toBe(encodeResult(result(2, 'x'.repeat(fill))));
    expect(() => packResultMessages([`${whole} ` as ResultJson])).toThrow(expect.objectContaining({ code: 'MessageTooLarge' }));
  });
});

describe('resultMessage', () => {
  it('keeps a result that fits a message as it is, and puts a larger output in the bucket with a tail in the result', async () => {
    const store = new MemoryStore();
    const fits = result(1, 'x'.repeat(40_000));
    expect(JSON.parse(await resultMessage(fits, store))).toEqual(fits);
    const large = result(2, `${'y'.repeat(60_000)}\nthe end\n`);
    const sent = JSON.parse(await resultMessage(large, store)) as InstanceResult;
    expect(sent.outputKey).toBe(runKeys.output(RUN, large.instanceId));
    expect((await store.get(sent.outputKey!))!.toString()).toBe(large.output);
    expect(sent.output.endsWith('the end\n')).toBe(true);
    expect(sent.outputBytes).toBe(large.outputBytes);
    expect(packResultMessages([resultJson(sent)])).toHaveLength(1);
  });
});

describe('resultMessageContent', () => {
  it('tells the formats apart by the v key', () => {
    expect(resultMessageContent({ version: 1, runId: RUN })).toEqual({ one: { version: 1, runId: RUN } });
    expect(resultMessageContent('text')).toEqual({ one: 'text' });
    expect(resultMessageContent({ v: 2, results: [1, 2] })).toEqual({ several: [1, 2] });
    expect(resultMessageContent({ v: 1, results: [1] })).toEqual({ refused: expect.stringMatching(/^packed message: v: /) });
  });
});
