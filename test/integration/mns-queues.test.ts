/**
 * Queue management through the real `@alicloud/mns` client against the local MNS: create (201 / 204
 * / 409), attributes, listing with paging, deletion, and the errors the SDK must surface as
 * `MNS<Code>Error`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectMnsError, rawRequest, errorCode, startTestBed, type MnsTestBed } from './mns-support.ts';

let bed: MnsTestBed;

beforeEach(async () => {
  bed = await startTestBed();
});

afterEach(async () => {
  await bed.close();
});

describe('CreateQueue', () => {
  it('creates with defaults: 201 and a Location the client can use', async () => {
    const res = await bed.client.createQueue('jobs');
    expect(res.code).toBe(201);
    expect(res.headers.location).toBe(`${bed.emulator.endpoint}/queues/jobs`);
    const attrs = (await bed.client.getQueueAttributes('jobs')).body;
    expect(attrs).toMatchObject({
      QueueName: 'jobs',
      DelaySeconds: '0',
      MaximumMessageSize: '65536',
      MessageRetentionPeriod: '345600',
      VisibilityTimeout: '30',
      PollingWaitSeconds: '0',
      ActiveMessages: '0',
      InactiveMessages: '0',
      DelayMessages: '0',
      LoggingEnabled: 'False',
    });
    // Queue times are epoch seconds.
    expect(Math.abs(Number(attrs.CreateTime) - Date.now() / 1000)).toBeLessThan(5);
  });

  it('answers 204 for an identical re-create and 409 QueueAlreadyExist for different attributes', async () => {
    expect((await bed.client.createQueue('jobs', { VisibilityTimeout: 5, PollingWaitSeconds: 2 })).code).toBe(201);
    expect((await bed.client.createQueue('jobs', { VisibilityTimeout: 5, PollingWaitSeconds: 2 })).code).toBe(204);
    await expectMnsError(bed.client.createQueue('jobs', { VisibilityTimeout: 6 }), 'QueueAlreadyExist');
    // Defaults count as given: an empty create differs from VisibilityTimeout=5.
    await expectMnsError(bed.client.createQueue('jobs'), 'QueueAlreadyExist');
  });

  it('refuses out-of-range attributes and bad names', async () => {
    await expectMnsError(bed.client.createQueue('q1', { VisibilityTimeout: 0 }), 'InvalidArgument');
    await expectMnsError(bed.client.createQueue('q2', { MaximumMessageSize: 1023 }), 'InvalidArgument');
    await expectMnsError(bed.client.createQueue('q3', { PollingWaitSeconds: 31 }), 'InvalidArgument');
    await expectMnsError(bed.client.createQueue('q4', { DelaySeconds: 'soon' }), 'InvalidArgument');
    await expectMnsError(bed.client.createQueue('-starts-with-dash'), 'InvalidQueueName');
    await expectMnsError(bed.client.createQueue('x'.repeat(257)), 'QueueNameLengthError');
    expect(bed.emulator.store.listQueues().names).toEqual([]);
  });
});

describe('SetQueueAttributes / GetQueueAttributes', () => {
  it('changes only the attributes given', async () => {
    await bed.client.createQueue('jobs', { DelaySeconds: 3 });
    const res = await bed.client.setQueueAttributes('jobs', { VisibilityTimeout: 120, LoggingEnabled: true });
    expect(res.code).toBe(204);
    const attrs = (await bed.client.getQueueAttributes('jobs')).body;
    expect(attrs).toMatchObject({ DelaySeconds: '3', VisibilityTimeout: '120', LoggingEnabled: 'True' });
    await expectMnsError(bed.client.setQueueAttributes('jobs', { VisibilityTimeout: 43201 }), 'InvalidArgument');
  });

  it('counts active, inactive and delayed messages', async () => {
    await bed.client.createQueue('jobs');
    await bed.client.batchSendMessage('jobs', [
      { MessageBody: 'YQ==' },
      { MessageBody: 'Yg==' },
      { MessageBody: 'Yw==', DelaySeconds: 60 },
    ]);
    await bed.client.receiveMessage('jobs');
    expect((await bed.client.getQueueAttributes('jobs')).body).toMatchObject({ ActiveMessages: '1', InactiveMessages: '1', DelayMessages: '1' });
  });
});

describe('ListQueue', () => {
  it('lists in name order, filters by prefix and pages with the marker', async () => {
    for (const name of ['beta', 'alpha-2', 'alpha-1', 'gamma', 'alpha-3']) await bed.client.createQueue(name);
    const all = await bed.client.listQueue();
    expect(all.body!.map((q) => q.QueueURL)).toEqual(
      ['alpha-1', 'alpha-2', 'alpha-3', 'beta', 'gamma'].map((n) => `${bed.emulator.endpoint}/queues/${n}`),
    );
    const prefixed = await bed.client.listQueue(undefined, 10, 'alpha-');
    expect(prefixed.body!.map((q) => q.QueueURL!.split('/').pop())).toEqual(['alpha-1', 'alpha-2', 'alpha-3']);

    // The SDK drops NextMarker (it returns only the Queue list), so read the page raw.
    const page1 = await rawRequest(bed.emulator.endpoint, {
      method: 'GET',
      resource: '/queues',
      signedHeaders: { 'x-mns-ret-number': '2', 'x-mns-prefix': 'alpha-' },
    });
    expect(page1.status).toBe(200);
    expect(page1.body).toContain('<NextMarker>alpha-3</NextMarker>');
    const page2 = await bed.client.listQueue('alpha-3', 2, 'alpha-');
    expect(page2.body!.map((q) => q.QueueURL!.split('/').pop())).toEqual(['alpha-3']);

    const withMeta = await rawRequest(bed.emulator.endpoint, {
      method: 'GET',
      resource: '/queues',
      signedHeaders: { 'x-mns-prefix': 'beta', 'x-mns-with-meta': 'true' },
    });
    expect(withMeta.body).toContain('<QueueName>beta</QueueName>');
    expect(withMeta.body).toContain('<VisibilityTimeout>30</VisibilityTimeout>');

    const none = await bed.client.listQueue(undefined, 10, 'zzz');
    expect(none.body).toBeUndefined();
    const bad = await rawRequest(bed.emulator.endpoint, { method: 'GET', resource: '/queues', signedHeaders: { 'x-mns-ret-number': '0' } });
    expect([bad.status, errorCode(bad.body)]).toEqual([400, 'InvalidArgument']);
  });
});

describe('DeleteQueue and unknown queues', () => {
  it('deletes a queue with its messages; later calls say QueueNotExist', async () => {
    await bed.client.createQueue('jobs');
    await bed.client.sendMessage('jobs', { MessageBody: 'aGk=' });
    expect((await bed.client.deleteQueue('jobs')).code).toBe(204);
    await expectMnsError(bed.client.getQueueAttributes('jobs'), 'QueueNotExist');
    await expectMnsError(bed.client.sendMessage('jobs', { MessageBody: 'aGk=' }), 'QueueNotExist');
    await expectMnsError(bed.client.receiveMessage('jobs'), 'QueueNotExist');
    await expectMnsError(bed.client.setQueueAttributes('jobs', { VisibilityTimeout: 3 }), 'QueueNotExist');
    expect((await bed.client.listQueue()).body).toBeUndefined();
    // Re-creating starts empty.
    await bed.client.createQueue('jobs');
    await expectMnsError(bed.client.receiveMessage('jobs'), 'MessageNotExist');
  });

  it('treats deleting a missing queue as done (no error is documented)', async () => {
    expect((await bed.client.deleteQueue('never-was')).code).toBe(204);
  });

  it('rejects paths and methods MNS does not have', async () => {
    const topic = await rawRequest(bed.emulator.endpoint, { method: 'GET', resource: '/topics/t1' });
    expect([topic.status, errorCode(topic.body)]).toEqual([400, 'InvalidRequestURL']);
    const post = await rawRequest(bed.emulator.endpoint, { method: 'POST', resource: '/queues/jobs', body: '<Queue/>' });
    expect([post.status, errorCode(post.body)]).toEqual([400, 'InvalidRequestURL']);
    const flag = await rawRequest(bed.emulator.endpoint, { method: 'PUT', resource: '/queues/jobs?metaoverride=maybe', body: '<Queue/>' });
    expect([flag.status, errorCode(flag.body)]).toEqual([400, 'InvalidQueryString']);
  });

  it('answers a malformed queue document with MalformedXML', async () => {
    const res = await rawRequest(bed.emulator.endpoint, { method: 'PUT', resource: '/queues/jobs', body: '<Queue><VisibilityTimeout>5</Queue>' });
    expect([res.status, errorCode(res.body)]).toEqual([400, 'MalformedXML']);
    expect(res.headers['content-type']).toBe('text/xml;charset=utf-8');
    const wrongRoot = await rawRequest(bed.emulator.endpoint, { method: 'PUT', resource: '/queues/jobs', body: '<Topic/>' });
    expect([wrongRoot.status, errorCode(wrongRoot.body)]).toEqual([400, 'MalformedXML']);
  });
});

describe('queues option', () => {
  it('creates missing queues at start and keeps existing ones as they are', async () => {
    await bed.client.createQueue('kept', { VisibilityTimeout: 7 });
    await bed.emulator.close();
    const lines: string[] = [];
    const { startMnsEmulator } = await import('../../local/mns/server.ts');
    const emulator = await startMnsEmulator({
      accessKeys: { AK: 'SK' },
      dataDir: bed.dataDir,
      log: (l) => lines.push(l),
      queues: [{ name: 'kept', attributes: { VisibilityTimeout: 9 } }, { name: 'fresh', attributes: { PollingWaitSeconds: 3 } }],
    });
    bed.emulator = emulator;
    expect((await emulator.store.getQueueAttributes('kept')).VisibilityTimeout).toBe(7);
    expect((await emulator.store.getQueueAttributes('fresh')).PollingWaitSeconds).toBe(3);
    expect(lines.some((l) => l.includes('kept exists with other attributes'))).toBe(true);
  });
});
