/**
 * A function's wiring (shared/runtime/function-deps.ts): each part built at its lifetime — once per
 * process, once per credentials, per invocation — from the parts before it, and every invocation's
 * logger hiding the function's secrets as well as the credentials.
 */
import { describe, expect, it } from 'vitest';
import type { Credentials } from '../../shared/runtime/context.ts';
import { functionDeps } from '../../shared/runtime/function-deps.ts';
import { createLogger } from '../../shared/runtime/logger.ts';

const ENV = { FLEETRUN_BUCKET: 'runs', FLEETRUN_SEAL_KEY: 'seal-key-0123456789abcdef' };
const ROLE: Credentials = { accessKeyId: 'STS.one', accessKeySecret: 'secret-one', securityToken: 'token-one' };

function invocation(credentials: Credentials, requestId: string, lines: string[] = []) {
  return { credentials, logger: createLogger({ requestId, sink: (l) => lines.push(l), secrets: [credentials.accessKeySecret, credentials.securityToken ?? ''] }) };
}

/** Counts each build, so a test sees what was built how often. */
function counted() {
  const builds: string[] = [];
  const deps = functionDeps(ENV, { secrets: ['chat-signing-secret'] })
    .perProcess('sender', () => (builds.push('sender'), { kind: 'sender' }))
    .perCredentials('store', (env, credentials) => (builds.push('store'), { bucket: env.FLEETRUN_BUCKET, keyId: credentials.accessKeyId }))
    .perCredentials('stored', (_env, _credentials, { store }) => (builds.push('stored'), { over: store }))
    .perInvocation('chat', (_env, { sender, store, logger }) => (builds.push('chat'), { sender, store, logger }));
  return { builds, deps };
}

describe('Function: functionDeps', () => {
  it('builds the clients once per credentials, what logs once per invocation, the sender once', () => {
    const { builds, deps } = counted();
    expect(builds).toEqual(['sender']);
    const first = deps.for(invocation(ROLE, 'req-1'));
    const second = deps.for(invocation({ ...ROLE }, 'req-2'));
    expect(builds).toEqual(['sender', 'store', 'stored', 'chat', 'chat']);
    expect(second.store).toBe(first.store);
    expect(second.stored).toBe(first.stored);
    expect(second.chat).not.toBe(first.chat);
    expect(first.stored.over).toBe(first.store);
    expect(first.store).toEqual({ bucket: 'runs', keyId: 'STS.one' });
  });

  it('builds new clients when FC hands over new credentials, and keeps the sender', () => {
    const { builds, deps } = counted();
    const before = deps.for(invocation(ROLE, 'req-1'));
    for (const rotated of [{ ...ROLE, securityToken: 'token-two' }, { ...ROLE, accessKeySecret: 'secret-two' }, { ...ROLE, accessKeyId: 'STS.two' }]) {
      const after = deps.for(invocation(rotated, 'req-2'));
      expect(after.store).not.toBe(before.store);
      expect(after.sender).toBe(before.sender);
    }
    expect(builds.filter((b) => b === 'store')).toHaveLength(4);
    expect(builds.filter((b) => b === 'sender')).toHaveLength(1);
  });

  it('gives each invocation its own logger: its request id, the credentials and the function\'s secrets hidden', () => {
    const { deps } = counted();
    const lines: string[] = [];
    const { logger, chat } = deps.for(invocation(ROLE, 'req-7', lines));
    expect(chat.logger).toBe(logger);
    logger.info('leak', { a: 'chat-signing-secret', b: 'secret-one', c: 'token-one', d: 'seal-key-0123456789abcdef' });
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({ requestId: 'req-7', message: 'leak', a: '***', b: '***', c: '***', d: '***' });
  });

  it('hides the seal key of a function that names no other secret', () => {
    const lines: string[] = [];
    const { logger } = functionDeps({ FLEETRUN_SEAL_KEY: 'only-the-seal-key-0123' }).for(invocation(ROLE, 'req-8', lines));
    logger.warn('oops', { key: 'only-the-seal-key-0123' });
    expect(lines[0]).not.toContain('only-the-seal-key-0123');
  });

  it('refuses two parts of one name, and the name logger', () => {
    const { deps } = counted();
    expect(() => deps.perCredentials('store', () => ({}))).toThrow("function dependency 'store' is already defined");
    expect(() => deps.perInvocation('sender', () => ({}))).toThrow("function dependency 'sender' is already defined");
    expect(() => functionDeps(ENV).perProcess('logger', () => ({}))).toThrow("function dependency 'logger' is already defined");
  });
});
