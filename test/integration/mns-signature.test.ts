/**
 * Authentication of the local MNS: the real SDK's signatures are accepted, and wrong keys, secrets,
 * dates, digests and tampered requests get the documented error codes — surfaced by the SDK as
 * `MNS<Code>Error` because every error is a text/xml `<Error>` document.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';
import { mnsContentMd5, mnsSignature, mnsStringToSign } from '../../local/mns/signature.ts';
import { AK, SK, errorCode, expectMnsError, rawRequest, startTestBed, type MnsTestBed } from './mns-support.ts';

let bed: MnsTestBed;

beforeAll(async () => {
  bed = await startTestBed({ queues: [{ name: 'jobs' }] });
});

afterAll(async () => {
  await bed.close();
});

const minutes = (n: number): string => new Date(Date.now() + n * 60_000).toUTCString();

describe('with the SDK', () => {
  it('accepts its signature on every verb', async () => {
    await bed.client.sendMessage('jobs', { MessageBody: 'c2lnbmVk' });
    const m = (await bed.client.receiveMessage('jobs')).body;
    expect((await bed.client.changeMessageVisibility('jobs', m.ReceiptHandle!, 30)).code).toBe(200);
    expect((await bed.client.getQueueAttributes('jobs')).code).toBe(200);
  });

  it('refuses a wrong secret with MNSSignatureDoesNotMatchError', async () => {
    const e = await expectMnsError(bed.newClient({ accessKeySecret: 'not-the-secret' }).getQueueAttributes('jobs'), 'SignatureDoesNotMatch');
    expect(e.message).toContain('failed with 403');
  });

  it('refuses an unknown key with MNSInvalidAccessKeyIdError', async () => {
    const e = await expectMnsError(bed.newClient({ accessKeyId: 'LTAI5tUnknown' }).sendMessage('jobs', { MessageBody: 'eA==' }), 'InvalidAccessKeyId');
    expect(e.message).toContain('failed with 403');
  });

  it('accepts an STS token header, which the SDK adds unsigned', async () => {
    expect((await bed.newClient({ securityToken: 'CAIS+token/with=odd+chars' }).getQueueAttributes('jobs')).code).toBe(200);
  });
});

describe('raw requests', () => {
  it('accepts a request signed from the protocol description', async () => {
    const res = await rawRequest(bed.emulator.endpoint, { method: 'GET', resource: '/queues/jobs' });
    expect(res.status).toBe(200);
  });

  it('MissingAuthorizationHeader (400) and InvalidAuthorizationHeader (400)', async () => {
    const none = await rawRequest(bed.emulator.endpoint, { method: 'GET', resource: '/queues/jobs', unsigned: true });
    expect([none.status, errorCode(none.body)]).toEqual([400, 'MissingAuthorizationHeader']);
    const bearer = await rawRequest(bed.emulator.endpoint, { method: 'GET', resource: '/queues/jobs', headers: { authorization: 'Bearer abc' } });
    expect([bearer.status, errorCode(bearer.body)]).toEqual([400, 'InvalidAuthorizationHeader']);
    const noColon = await rawRequest(bed.emulator.endpoint, { method: 'GET', resource: '/queues/jobs', headers: { authorization: `MNS ${AK}` } });
    expect([noColon.status, errorCode(noColon.body)]).toEqual([400, 'InvalidAuthorizationHeader']);
  });

  it('TimeExpired (408) beyond 15 minutes either way, judged by x-mns-date when present', async () => {
    const old = await rawRequest(bed.emulator.endpoint, { method: 'GET', resource: '/queues/jobs', date: minutes(-16) });
    expect([old.status, errorCode(old.body)]).toEqual([408, 'TimeExpired']);
    const future = await rawRequest(bed.emulator.endpoint, { method: 'GET', resource: '/queues/jobs', date: minutes(16) });
    expect([future.status, errorCode(future.body)]).toEqual([408, 'TimeExpired']);
    const skewedOk = await rawRequest(bed.emulator.endpoint, { method: 'GET', resource: '/queues/jobs', date: minutes(-14) });
    expect(skewedOk.status).toBe(200);
    const staleMnsDate = await rawRequest(bed.emulator.endpoint, { method: 'GET', resource: '/queues/jobs', headers: { 'x-mns-date': minutes(-30) } });
    expect([staleMnsDate.status, errorCode(staleMnsDate.body)]).toEqual([408, 'TimeExpired']);
  });

  it('InvalidDateHeader (400) and MissingDateHeader (400)', async () => {
    const bad = await rawRequest(bed.emulator.endpoint, { method: 'GET', resource: '/queues/jobs', date: '2026-01-01T00:00:00Z' });
    expect([bad.status, errorCode(bad.body)]).toEqual([400, 'InvalidDateHeader']);
    const none = await rawRequest(bed.emulator.endpoint, { method: 'GET', resource: '/queues/jobs', headers: { date: null, 'x-mns-date': null } });
    expect([none.status, errorCode(none.body)]).toEqual([400, 'MissingDateHeader']);
  });

  it('InvalidDegist (400) when Content-MD5 does not match the body', async () => {
    const body = '<Message><MessageBody>eA==</MessageBody></Message>';
    const res = await rawRequest(bed.emulator.endpoint, {
      method: 'POST',
      resource: '/queues/jobs/messages',
      body,
      headers: { 'content-md5': Buffer.from(createHash('md5').update('other').digest('hex')).toString('base64') },
    });
    expect([res.status, errorCode(res.body)]).toEqual([400, 'InvalidDegist']);
    // RFC 1864's form (base64 of the raw digest) describes the same body and is accepted too.
    const rfc = await rawRequest(bed.emulator.endpoint, {
      method: 'POST',
      resource: '/queues/jobs/messages',
      body,
      signedHeaders: { 'content-md5': createHash('md5').update(body).digest('base64') },
    });
    expect(rfc.status).toBe(201);
  });

  it('SignatureDoesNotMatch (403) when the query, body or a signed header is changed after signing', async () => {
    // A signer that signs one resource and sends another.
    const date = new Date().toUTCString();
    const toSign = mnsStringToSign({
      method: 'GET',
      contentMd5: '',
      contentType: '',
      date,
      headers: { 'x-mns-date': date, 'x-mns-version': '2015-06-06' },
      resource: '/queues/jobs/messages?waitseconds=1',
    });
    const res = await rawRequest(bed.emulator.endpoint, {
      method: 'GET',
      resource: '/queues/jobs/messages?waitseconds=2',
      headers: { authorization: `MNS ${AK}:${mnsSignature(SK, toSign)}` },
    });
    expect([res.status, errorCode(res.body)]).toEqual([403, 'SignatureDoesNotMatch']);

    const noMd5 = await rawRequest(bed.emulator.endpoint, {
      method: 'POST',
      resource: '/queues/jobs/messages',
      body: '<Message><MessageBody>eA==</MessageBody></Message>',
      headers: { 'content-md5': null },
    });
    expect([noMd5.status, errorCode(noMd5.body)]).toEqual([403, 'SignatureDoesNotMatch']);

    const extraMnsHeader = await rawRequest(bed.emulator.endpoint, { method: 'GET', resource: '/queues', headers: { 'x-mns-prefix': 'j' } });
    expect([extraMnsHeader.status, errorCode(extraMnsHeader.body)]).toEqual([403, 'SignatureDoesNotMatch']);
  });

  it('signs the receipt handle exactly as sent (no decoding of + or %)', async () => {
    // Reaching the handle check (not SignatureDoesNotMatch) shows the raw query text was what got verified.
    const res = await rawRequest(bed.emulator.endpoint, { method: 'DELETE', resource: '/queues/jobs/messages?ReceiptHandle=a+b%2Fc==' });
    expect([res.status, errorCode(res.body)]).toEqual([400, 'ReceiptHandleError']);
  });

  it("computes Content-MD5 the SDK's way: base64 of the hex digest", () => {
    // The value captured from the SDK for an empty DELETE body (docs/platform-facts.md §8.4).
    expect(mnsContentMd5('')).toBe('ZDQxZDhjZDk4ZjAwYjIwNGU5ODAwOTk4ZWNmODQyN2U=');
  });
});

describe('response envelope', () => {
  it('puts x-mns-request-id and x-mns-version on every answer, errors as namespaced text/xml', async () => {
    const ok = await rawRequest(bed.emulator.endpoint, { method: 'GET', resource: '/queues/jobs' });
    expect(ok.headers['x-mns-version']).toBe('2015-06-06');
    expect(ok.headers['x-mns-request-id']).toMatch(/^[0-9A-F]{24}$/);
    expect(ok.body.startsWith('<?xml version="1.0" encoding="UTF-8"?><Queue xmlns="http://mns.aliyuncs.com/doc/v1/">')).toBe(true);

    const err = await rawRequest(bed.emulator.endpoint, { method: 'GET', resource: '/queues/missing' });
    expect(err.status).toBe(404);
    expect(err.headers['content-type']).toBe('text/xml;charset=utf-8');
    expect(err.headers['x-mns-version']).toBe('2015-06-06');
    const doc = new XMLParser({ ignoreAttributes: false }).parse(err.body) as { Error: Record<string, string> };
    expect(doc.Error['@_xmlns']).toBe('http://mns.aliyuncs.com/doc/v1/');
    expect(doc.Error.Code).toBe('QueueNotExist');
    expect(doc.Error.RequestId).toBe(err.headers['x-mns-request-id']);
    expect(doc.Error.HostId).toBe(bed.emulator.endpoint);
    expect(doc.Error.Message).toBeTruthy();

    // The SDK appends "Error" to every code, even one that already ends in it.
    const handleError = await bed.client.deleteMessage('jobs', 'x').catch((e: Error) => e);
    expect((handleError as Error).name).toBe('MNSReceiptHandleErrorError');
  });

  it('answers unknown queues with MNSQueueNotExistError through the SDK', async () => {
    await expectMnsError(bed.client.getQueueAttributes('missing'), 'QueueNotExist');
    await expectMnsError(bed.client.batchSendMessage('missing', [{ MessageBody: 'eA==' }]), 'QueueNotExist');
    await expectMnsError(bed.client.peekMessage('missing'), 'QueueNotExist');
    await expectMnsError(bed.client.changeMessageVisibility('missing', 'h', 5), 'QueueNotExist');
  });
});
