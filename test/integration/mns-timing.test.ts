/**
 * The time-driven parts of the local MNS, through the real `@alicloud/mns` client: long polling
 * (returns as soon as a message becomes visible — sent, delayed, or back from its visibility timeout —
 * and otherwise waits out `waitseconds`), delays, and consumers that hang up or an emulator that
 * closes mid-poll. Timeouts are 1 s so the file stays quick.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { b64, expectMnsError, sleep, startTestBed, unb64, type MnsTestBed } from './mns-support.ts';

let bed: MnsTestBed;

beforeEach(async () => {
  bed = await startTestBed({ queues: [{ name: 'jobs', attributes: { VisibilityTimeout: 1 } }] });
});

afterEach(async () => {
  await bed.close();
});

async function timed<T>(p: Promise<T>): Promise<{ value: T; ms: number }> {
  const start = Date.now();
  const value = await p;
  return { value, ms: Date.now() - start };
}

describe('long polling', () => {
  it('returns as soon as a message is sent mid-wait', async () => {
    const start = Date.now();
    const poll = bed.client.receiveMessage('jobs', 10);
    await sleep(300);
    await bed.newClient().sendMessage('jobs', { MessageBody: b64('arrived') });
    const got = await poll;
    const ms = Date.now() - start;
    expect(unb64(got.body.MessageBody!)).toBe('arrived');
    expect(ms).toBeGreaterThanOrEqual(280);
    expect(ms).toBeLessThan(2000);
  });

  it('waits about waitseconds on an empty queue, then MNSMessageNotExistError', async () => {
    const start = Date.now();
    await expectMnsError(bed.client.receiveMessage('jobs', 1), 'MessageNotExist');
    const ms = Date.now() - start;
    expect(ms).toBeGreaterThanOrEqual(950);
    expect(ms).toBeLessThan(2500);
  });

  it("uses the queue's PollingWaitSeconds when the receive names no wait", async () => {
    await bed.client.createQueue('polled', { PollingWaitSeconds: 1 });
    const start = Date.now();
    await expectMnsError(bed.client.batchReceiveMessage('polled', 4), 'MessageNotExist');
    expect(Date.now() - start).toBeGreaterThanOrEqual(950);
  });

  it('wakes when an in-flight message comes back from its visibility timeout', async () => {
    await bed.client.sendMessage('jobs', { MessageBody: b64('boomerang') });
    const first = (await bed.client.receiveMessage('jobs')).body;
    const { value, ms } = await timed(bed.client.receiveMessage('jobs', 10));
    expect(value.body.MessageId).toBe(first.MessageId);
    expect(value.body.DequeueCount).toBe('2');
    expect(ms).toBeGreaterThan(500);
    expect(ms).toBeLessThan(2500);
  });

  it('a batch receive returns with what is there instead of waiting for numOfMessages', async () => {
    const poll = timed(bed.client.batchReceiveMessage('jobs', 16, 10));
    await sleep(200);
    await bed.client.batchSendMessage('jobs', [{ MessageBody: b64('a') }, { MessageBody: b64('b') }]);
    const { value, ms } = await poll;
    expect(value.body.map((m) => unb64(m.MessageBody!))).toEqual(['a', 'b']);
    expect(ms).toBeLessThan(2000);
  });

  it('serves several waiting consumers, one message each', async () => {
    const polls = [0, 1, 2].map(() => bed.newClient().receiveMessage('jobs', 10));
    await sleep(200);
    await bed.client.batchSendMessage('jobs', [1, 2, 3].map((i) => ({ MessageBody: b64(`w${i}`) })));
    const got = await Promise.all(polls);
    expect(got.map((r) => unb64(r.body.MessageBody!)).sort()).toEqual(['w1', 'w2', 'w3']);
  });

  it('does not hand a message to a consumer that hung up during its poll', async () => {
    const impatient = bed.newClient({ readTimeout: 300 });
    await expect(impatient.receiveMessage('jobs', 5)).rejects.toThrow();
    await sleep(100);
    await bed.client.sendMessage('jobs', { MessageBody: b64('for a live consumer') });
    const got = (await bed.client.receiveMessage('jobs')).body;
    expect(got.DequeueCount).toBe('1');
  });

  it('lets close() end a pending poll promptly', async () => {
    const poll = bed.client.receiveMessage('jobs', 20).then(
      () => 'resolved',
      () => 'rejected',
    );
    await sleep(200);
    const { ms } = await timed(bed.emulator.close());
    expect(ms).toBeLessThan(1000);
    expect(await poll).toBe('rejected');
  });
});

describe('delays', () => {
  it('keeps a delayed message invisible until its DelaySeconds have passed', async () => {
    await bed.client.sendMessage('jobs', { MessageBody: b64('later'), DelaySeconds: 1 });
    await expectMnsError(bed.client.receiveMessage('jobs'), 'MessageNotExist');
    expect((await bed.client.getQueueAttributes('jobs')).body).toMatchObject({ DelayMessages: '1', ActiveMessages: '0' });
    const { value, ms } = await timed(bed.client.receiveMessage('jobs', 5));
    expect(unb64(value.body.MessageBody!)).toBe('later');
    expect(value.body.DequeueCount).toBe('1');
    expect(ms).toBeGreaterThan(700);
    expect(ms).toBeLessThan(2500);
  });

  it("applies the queue's DelaySeconds when a message names none, and 0 overrides it", async () => {
    await bed.client.createQueue('slow', { DelaySeconds: 1 });
    await bed.client.sendMessage('slow', { MessageBody: b64('default delay') });
    await bed.client.sendMessage('slow', { MessageBody: b64('no delay'), DelaySeconds: 0 });
    expect(unb64((await bed.client.receiveMessage('slow')).body.MessageBody!)).toBe('no delay');
    await expectMnsError(bed.client.receiveMessage('slow'), 'MessageNotExist');
    await sleep(1100);
    expect(unb64((await bed.client.receiveMessage('slow')).body.MessageBody!)).toBe('default delay');
  });
});
