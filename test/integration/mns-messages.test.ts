/**
 * Message operations through the real `@alicloud/mns` client against the local MNS: the send /
 * receive / delete round trip, receipt handles, visibility, batches and their limits, peeking,
 * priorities, the XML edge the SDK creates by not escaping bodies, and concurrent consumers.
 */
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { b64, errorCode, expectMnsError, rawRequest, sleep, startTestBed, unb64, type MnsTestBed } from './mns-support.ts';

let bed: MnsTestBed;

beforeEach(async () => {
  bed = await startTestBed({ queues: [{ name: 'jobs', attributes: { VisibilityTimeout: 30 } }, { name: 'fast', attributes: { VisibilityTimeout: 1 } }] });
});

afterEach(async () => {
  await bed.close();
});

const md5Upper = (s: string): string => createHash('md5').update(s, 'utf8').digest('hex').toUpperCase();
const URL_SAFE = /^[A-Za-z0-9_-]+$/;

describe('send / receive / delete', () => {
  it('round-trips a base64 body with its id, MD5, counts and times', async () => {
    const payload = JSON.stringify({ task: 'deploy', note: 'a < b && c > d' });
    const before = Date.now();
    const sent = await bed.client.sendMessage('jobs', { MessageBody: b64(payload) });
    expect(sent.code).toBe(201);
    expect(sent.body.MessageBodyMD5).toBe(md5Upper(b64(payload)));

    const got = await bed.client.receiveMessage('jobs');
    expect(got.code).toBe(200);
    const m = got.body;
    expect(m.MessageId).toBe(sent.body.MessageId);
    expect(unb64(m.MessageBody!)).toBe(payload);
    expect(m.MessageBodyMD5).toBe(sent.body.MessageBodyMD5);
    expect(m.DequeueCount).toBe('1');
    expect(m.Priority).toBe('8');
    expect(m.ReceiptHandle).toMatch(URL_SAFE);
    const enqueue = Number(m.EnqueueTime);
    const first = Number(m.FirstDequeueTime);
    expect(enqueue).toBeGreaterThanOrEqual(before);
    expect(first).toBeGreaterThanOrEqual(enqueue);
    // Epoch milliseconds, and invisible for the queue's 30 s.
    expect(Number(m.NextVisibleTime) - first).toBe(30_000);

    // Invisible now: nothing else to receive.
    await expectMnsError(bed.client.receiveMessage('jobs'), 'MessageNotExist');
    expect((await bed.client.deleteMessage('jobs', m.ReceiptHandle!)).code).toBe(204);
    // Deleted: the handle now names a message that is gone.
    await expectMnsError(bed.client.deleteMessage('jobs', m.ReceiptHandle!), 'MessageNotExist');
    expect((await bed.client.getQueueAttributes('jobs')).body).toMatchObject({ ActiveMessages: '0', InactiveMessages: '0' });
  });

  it('issues a new receipt handle and one more DequeueCount on every receive; the old handle stops working', async () => {
    await bed.client.sendMessage('fast', { MessageBody: b64('again') });
    const first = (await bed.client.receiveMessage('fast')).body;
    await sleep(1100);
    const second = (await bed.client.receiveMessage('fast')).body;
    expect(second.MessageId).toBe(first.MessageId);
    expect(second.DequeueCount).toBe('2');
    expect(second.FirstDequeueTime).toBe(first.FirstDequeueTime);
    expect(second.ReceiptHandle).not.toBe(first.ReceiptHandle);
    expect(second.ReceiptHandle).toMatch(URL_SAFE);
    await expectMnsError(bed.client.deleteMessage('fast', first.ReceiptHandle!), 'ReceiptHandleError');
    expect((await bed.client.deleteMessage('fast', second.ReceiptHandle!)).code).toBe(204);
  });

  it('refuses an expired handle even before the message is received again', async () => {
    await bed.client.sendMessage('fast', { MessageBody: b64('x') });
    const m = (await bed.client.receiveMessage('fast')).body;
    await sleep(1100);
    await expectMnsError(bed.client.deleteMessage('fast', m.ReceiptHandle!), 'ReceiptHandleError');
    expect((await bed.client.peekMessage('fast')).body.MessageId).toBe(m.MessageId);
  });

  it('answers bad handles and missing parameters with the documented codes', async () => {
    await expectMnsError(bed.client.deleteMessage('jobs', 'not-a-handle'), 'ReceiptHandleError');
    await expectMnsError(bed.client.deleteMessage('jobs', `${'A'.repeat(32)}-1-${'0'.repeat(16)}`), 'MessageNotExist');
    await expectMnsError(bed.client.deleteMessage('jobs', ''), 'MissingReceiptHandle');
    await expectMnsError(bed.client.deleteMessage('nope', 'x'), 'QueueNotExist');
    const noHandle = await rawRequest(bed.emulator.endpoint, { method: 'DELETE', resource: '/queues/jobs/messages' });
    expect([noHandle.status, errorCode(noHandle.body)]).toEqual([400, 'MissingReceiptHandle']);
    const noTimeout = await rawRequest(bed.emulator.endpoint, { method: 'PUT', resource: '/queues/jobs/messages?receiptHandle=abc' });
    expect([noTimeout.status, errorCode(noTimeout.body)]).toEqual([400, 'MissingVisibilityTimeout']);
  });

  it('keeps the body exactly, whitespace and entity-escaped characters included', async () => {
    // The SDK sends bodies unescaped; a caller that escapes them itself gets the decoded text back.
    const sent = await bed.client.sendMessage('jobs', { MessageBody: '  a &lt;b&gt; &amp; &#x4E2D; "q"  ' });
    const decoded = '  a <b> & \u4E2D "q"  ';
    expect(sent.body.MessageBodyMD5).toBe(md5Upper(decoded));
    expect((await bed.client.receiveMessage('jobs')).body.MessageBody).toBe(decoded);
  });

  it('refuses an unescaped body as MalformedXML instead of guessing', async () => {
    await expectMnsError(bed.client.sendMessage('jobs', { MessageBody: 'hello <world> & {"a":1}' }), 'MalformedXML');
    await expectMnsError(bed.client.sendMessage('jobs', { MessageBody: 'a & b' }), 'MalformedXML');
    const nested = await rawRequest(bed.emulator.endpoint, {
      method: 'POST',
      resource: '/queues/jobs/messages',
      body: '<Message><MessageBody><x>1</x></MessageBody></Message>',
    });
    expect([nested.status, errorCode(nested.body)]).toEqual([400, 'MalformedXML']);
    const doctype = await rawRequest(bed.emulator.endpoint, {
      method: 'POST',
      resource: '/queues/jobs/messages',
      body: '<!DOCTYPE m [<!ENTITY e "boom">]><Message><MessageBody>&e;</MessageBody></Message>',
    });
    expect([doctype.status, errorCode(doctype.body)]).toEqual([400, 'MalformedXML']);
    expect((await bed.client.getQueueAttributes('jobs')).body.ActiveMessages).toBe('0');
  });

  it('enforces body size, priority and delay ranges', async () => {
    await expectMnsError(bed.client.sendMessage('jobs', { MessageBody: '' }), 'InvalidArgument');
    await expectMnsError(bed.client.sendMessage('jobs', { MessageBody: 'x'.repeat(65537) }), 'InvalidArgument');
    expect((await bed.client.sendMessage('jobs', { MessageBody: 'x'.repeat(65536) })).code).toBe(201);
    await expectMnsError(bed.client.sendMessage('jobs', { MessageBody: 'x', Priority: 0 }), 'InvalidArgument');
    await expectMnsError(bed.client.sendMessage('jobs', { MessageBody: 'x', Priority: 17 }), 'InvalidArgument');
    await expectMnsError(bed.client.sendMessage('jobs', { MessageBody: 'x', DelaySeconds: 604801 }), 'InvalidArgument');
    await bed.client.createQueue('small', { MaximumMessageSize: 1024 });
    await expectMnsError(bed.client.sendMessage('small', { MessageBody: 'x'.repeat(1025) }), 'InvalidArgument');
    expect((await bed.client.sendMessage('small', { MessageBody: 'x'.repeat(1024) })).code).toBe(201);
  });
});

describe('ChangeMessageVisibility', () => {
  it('returns a new handle, refuses the old one, and makes the message visible after the new timeout', async () => {
    await bed.client.sendMessage('jobs', { MessageBody: b64('cv') });
    const m = (await bed.client.receiveMessage('jobs')).body;
    const changed = await bed.client.changeMessageVisibility('jobs', m.ReceiptHandle!, 1);
    expect(changed.code).toBe(200);
    const newHandle = changed.body.ReceiptHandle!;
    expect(newHandle).not.toBe(m.ReceiptHandle);
    expect(newHandle).toMatch(URL_SAFE);
    expect(Number(changed.body.NextVisibleTime) - Date.now()).toBeLessThanOrEqual(1000);

    await expectMnsError(bed.client.changeMessageVisibility('jobs', m.ReceiptHandle!, 5), 'ReceiptHandleError');
    await expectMnsError(bed.client.deleteMessage('jobs', m.ReceiptHandle!), 'ReceiptHandleError');
    await expectMnsError(bed.client.receiveMessage('jobs'), 'MessageNotExist');

    await sleep(1100);
    const again = (await bed.client.receiveMessage('jobs')).body;
    expect(again.MessageId).toBe(m.MessageId);
    expect(again.DequeueCount).toBe('2');
    // The handle from the change expired with the visibility it granted.
    await expectMnsError(bed.client.deleteMessage('jobs', newHandle), 'ReceiptHandleError');
    expect((await bed.client.deleteMessage('jobs', again.ReceiptHandle!)).code).toBe(204);
  });

  it('can extend the invisibility of a message', async () => {
    await bed.client.sendMessage('fast', { MessageBody: b64('long job') });
    const m = (await bed.client.receiveMessage('fast')).body;
    const changed = await bed.client.changeMessageVisibility('fast', m.ReceiptHandle!, 60);
    await sleep(1100);
    await expectMnsError(bed.client.receiveMessage('fast'), 'MessageNotExist');
    expect((await bed.client.deleteMessage('fast', changed.body.ReceiptHandle!)).code).toBe(204);
  });

  it('checks the timeout range', async () => {
    await bed.client.sendMessage('jobs', { MessageBody: b64('r') });
    const m = (await bed.client.receiveMessage('jobs')).body;
    await expectMnsError(bed.client.changeMessageVisibility('jobs', m.ReceiptHandle!, 0), 'InvalidArgument');
    await expectMnsError(bed.client.changeMessageVisibility('jobs', m.ReceiptHandle!, 43201), 'InvalidArgument');
    const word = await rawRequest(bed.emulator.endpoint, {
      method: 'PUT',
      resource: `/queues/jobs/messages?receiptHandle=${m.ReceiptHandle}&visibilityTimeout=soon`,
    });
    expect([word.status, errorCode(word.body)]).toEqual([400, 'InvalidQueryString']);
  });
});

describe('batches', () => {
  it('sends 16 messages in one call and refuses 17', async () => {
    const bodies = Array.from({ length: 16 }, (_, i) => b64(`m${i}`));
    const res = await bed.client.batchSendMessage('jobs', bodies.map((MessageBody) => ({ MessageBody })));
    expect(res.code).toBe(201);
    expect(res.body).toHaveLength(16);
    expect(res.body.map((m) => m.MessageBodyMD5)).toEqual(bodies.map(md5Upper));
    expect(new Set(res.body.map((m) => m.MessageId)).size).toBe(16);

    const seventeen = Array.from({ length: 17 }, (_, i) => ({ MessageBody: b64(`n${i}`) }));
    await expectMnsError(bed.client.batchSendMessage('jobs', seventeen), 'InvalidArgument');
    expect((await bed.client.getQueueAttributes('jobs')).body.ActiveMessages).toBe('16');
  });

  it('allows 64 KB of bodies in total and refuses one byte more, sending nothing', async () => {
    const quarter = 'q'.repeat(16 * 1024);
    expect((await bed.client.batchSendMessage('jobs', [1, 2, 3, 4].map(() => ({ MessageBody: quarter })))).code).toBe(201);
    await expectMnsError(
      bed.client.batchSendMessage('jobs', [{ MessageBody: quarter }, { MessageBody: quarter }, { MessageBody: quarter }, { MessageBody: `${quarter}x` }]),
      'InvalidArgument',
    );
    await expectMnsError(bed.client.batchSendMessage('jobs', [{ MessageBody: 'ok' }, { MessageBody: 'x'.repeat(65537) }]), 'InvalidArgument');
    await expectMnsError(bed.client.batchSendMessage('jobs', [{ MessageBody: 'ok' }, { MessageBody: 'bad <' }]), 'MalformedXML');
    expect((await bed.client.getQueueAttributes('jobs')).body.ActiveMessages).toBe('4');
  });

  it('receives up to numOfMessages and deletes in a batch', async () => {
    await bed.client.batchSendMessage('jobs', [1, 2, 3, 4, 5].map((i) => ({ MessageBody: b64(`b${i}`) })));
    const three = await bed.client.batchReceiveMessage('jobs', 3);
    expect(three.body.map((m) => unb64(m.MessageBody!))).toEqual(['b1', 'b2', 'b3']);
    const rest = await bed.client.batchReceiveMessage('jobs', 16);
    expect(rest.body.map((m) => unb64(m.MessageBody!))).toEqual(['b4', 'b5']);
    await expectMnsError(bed.client.batchReceiveMessage('jobs', 16), 'MessageNotExist');

    const all = await bed.client.batchDeleteMessage('jobs', [...three.body, ...rest.body].map((m) => m.ReceiptHandle!));
    expect(all.code).toBe(204);
    expect(all.body).toBeUndefined();
    expect((await bed.client.getQueueAttributes('jobs')).body).toMatchObject({ ActiveMessages: '0', InactiveMessages: '0' });
  });

  it('reports a partial BatchDeleteMessage failure per handle and still deletes the valid ones', async () => {
    await bed.client.batchSendMessage('jobs', [1, 2, 3].map((i) => ({ MessageBody: b64(`p${i}`) })));
    const got = (await bed.client.batchReceiveMessage('jobs', 3)).body;
    await bed.client.deleteMessage('jobs', got[2]!.ReceiptHandle!);
    const res = await bed.client.batchDeleteMessage('jobs', [got[0]!.ReceiptHandle!, 'garbage', got[1]!.ReceiptHandle!, got[2]!.ReceiptHandle!]);
    expect(res.code).toBe(404);
    expect(res.body).toEqual([
      { ErrorCode: 'ReceiptHandleError', ErrorMessage: expect.any(String), ReceiptHandle: 'garbage' },
      { ErrorCode: 'MessageNotExist', ErrorMessage: expect.any(String), ReceiptHandle: got[2]!.ReceiptHandle },
    ]);
    expect((await bed.client.getQueueAttributes('jobs')).body).toMatchObject({ ActiveMessages: '0', InactiveMessages: '0' });
  });

  it('checks numOfMessages and the batch delete size', async () => {
    await expectMnsError(bed.client.batchReceiveMessage('jobs', 17), 'InvalidArgument');
    await expectMnsError(bed.client.batchReceiveMessage('jobs', 0), 'InvalidArgument');
    await expectMnsError(bed.client.batchPeekMessage('jobs', 17), 'InvalidArgument');
    await expectMnsError(bed.client.receiveMessage('jobs', 31), 'InvalidArgument');
    const handles = Array.from({ length: 17 }, (_, i) => `h${i}`);
    await expectMnsError(bed.client.batchDeleteMessage('jobs', handles), 'InvalidArgument');
    const word = await rawRequest(bed.emulator.endpoint, { method: 'GET', resource: '/queues/jobs/messages?waitseconds=abc' });
    expect([word.status, errorCode(word.body)]).toEqual([400, 'InvalidQueryString']);
    const twice = await rawRequest(bed.emulator.endpoint, { method: 'GET', resource: '/queues/jobs/messages?waitseconds=1&waitseconds=2' });
    expect([twice.status, errorCode(twice.body)]).toEqual([400, 'InvalidQueryString']);
  });
});

describe('peek', () => {
  it('shows visible messages without receiving them', async () => {
    await bed.client.batchSendMessage('jobs', [{ MessageBody: b64('one') }, { MessageBody: b64('two') }]);
    const peeked = (await bed.client.peekMessage('jobs')).body;
    expect(unb64(peeked.MessageBody!)).toBe('one');
    expect(peeked.DequeueCount).toBe('0');
    expect(peeked.ReceiptHandle).toBeUndefined();
    expect((await bed.client.batchPeekMessage('jobs', 16)).body.map((m) => unb64(m.MessageBody!))).toEqual(['one', 'two']);

    const received = (await bed.client.receiveMessage('jobs')).body;
    expect(received.DequeueCount).toBe('1');
    const after = (await bed.client.batchPeekMessage('jobs', 16)).body;
    expect(after.map((m) => unb64(m.MessageBody!))).toEqual(['two']);
    await bed.client.receiveMessage('jobs');
    await expectMnsError(bed.client.peekMessage('jobs'), 'MessageNotExist');
  });
});

describe('priorities', () => {
  it('serves the highest priority first, then enqueue order', async () => {
    const plan: [string, number | undefined][] = [
      ['p8-a', undefined],
      ['p1-a', 1],
      ['p16', 16],
      ['p1-b', 1],
      ['p5', 5],
      ['p8-b', 8],
    ];
    for (const [body, Priority] of plan) await bed.client.sendMessage('jobs', { MessageBody: b64(body), ...(Priority ? { Priority } : {}) });
    const order: string[] = [];
    for (let i = 0; i < plan.length; i++) {
      const m = (await bed.client.receiveMessage('jobs')).body;
      order.push(unb64(m.MessageBody!));
    }
    expect(order).toEqual(['p1-a', 'p1-b', 'p5', 'p8-a', 'p8-b', 'p16']);
    const batch = await bed.client.batchSendMessage('fast', [
      { MessageBody: b64('low'), Priority: 9 },
      { MessageBody: b64('high'), Priority: 2 },
    ]);
    expect(batch.code).toBe(201);
    expect((await bed.client.batchReceiveMessage('fast', 2)).body.map((m) => [unb64(m.MessageBody!), m.Priority])).toEqual([
      ['high', '2'],
      ['low', '9'],
    ]);
  });
});

describe('concurrent consumers', () => {
  it('never hands the same message to two consumers while it is invisible', async () => {
    const total = 48;
    for (let i = 0; i < total; i += 16) {
      await bed.client.batchSendMessage('jobs', Array.from({ length: 16 }, (_, k) => ({ MessageBody: b64(`c${i + k}`) })));
    }
    const consumers = Array.from({ length: 6 }, () => bed.newClient());
    const results = await Promise.all([
      ...consumers.map((c) => c.batchReceiveMessage('jobs', 16, 1).then((r) => r.body, () => [])),
      ...consumers.map((c) => c.receiveMessage('jobs', 1).then((r) => [r.body], () => [])),
      ...consumers.map((c) => c.batchReceiveMessage('jobs', 5).then((r) => r.body, () => [])),
    ]);
    const ids = results.flat().map((m) => m.MessageId);
    expect(ids).toHaveLength(total);
    expect(new Set(ids).size).toBe(total);
    expect((await bed.client.getQueueAttributes('jobs')).body).toMatchObject({ ActiveMessages: '0', InactiveMessages: String(total) });
  });
});
