/**
 * chatops and the audit record (shared/chatops/chat-audit.ts, handle-chat.ts): a run started is
 * recorded with what it was asked for, its secret value left out and redacted from every other
 * value that repeats it; a failed audit write fails nothing — the run is handed over, the answer
 * says it started, and the failure is logged without the record. Driven through handleChat with
 * the real codecs, catalog and policy.
 */
import { describe, expect, it } from 'vitest';
import { createCodecs, MemoryReplayGuard } from '../../shared/chat/codecs.ts';
import { webhookHeaders } from '../../shared/chat/sign.ts';
import type { DispatchRequest } from '../../shared/chatops/dispatch-request.ts';
import { handleChat, type ChatopsDeps } from '../../shared/chatops/handle-chat.ts';
import { parseCatalog } from '../../shared/config/catalog.ts';
import { parsePolicy } from '../../shared/config/policy.ts';
import { AUDIT_PREFIX, parseAuditKey, parseAuditRecord } from '../../shared/runs/audit.ts';
import { createLogger } from '../../shared/runtime/logger.ts';
import { MemoryStore } from '../support/memory-store.ts';
import { findSecrets } from '../support/secret-scan.ts';

const WEBHOOK_SECRET = 'webhook-secret-for-tests-0001';
const SEAL_KEY = 'b'.repeat(64);
const SECRET = 'pa55-Word-for-the-audit';
/** chatops' clock: the requests are signed at it, and the records are stamped with it. */
const NOW = new Date('2026-11-23T10:15:00.123Z');

const CATALOG = parseCatalog(`
commands:
  login:
    description: logs in somewhere
    script: echo "$user $token"
    parameters:
      user: { description: who }
      token: { description: a secret, secret: true, required: true }
`);
const POLICY = parsePolicy(`
rules:
  - name: ops
    users: ['webhook:alice']
    commands: ['*']
    allowScript: true
`);

function harness() {
  const dispatched: DispatchRequest[] = [];
  const logs: string[] = [];
  const store = new MemoryStore();
  const deps: ChatopsDeps = {
    codecs: createCodecs({ webhook: { secret: WEBHOOK_SECRET, callbackOrigins: [] } }, new MemoryReplayGuard()),
    catalog: CATALOG,
    policy: POLICY,
    jobs: [],
    store,
    dispatcher: { dispatch: async (r) => void dispatched.push(r) },
    sealKey: SEAL_KEY,
    logger: createLogger({ sink: (l) => logs.push(l) }),
    now: () => NOW,
  };
  return { deps, dispatched, logs, store };
}

async function say(h: ReturnType<typeof harness>, text: string, user = 'alice') {
  const body = JSON.stringify({ user, text });
  const res = await handleChat({ method: 'POST', path: '/webhook', headers: webhookHeaders(WEBHOOK_SECRET, body, NOW), query: {}, body: Buffer.from(body) }, h.deps);
  return { status: res.statusCode, json: JSON.parse(String(res.body ?? '{}')) as { ok: boolean; code?: string; message: string } };
}

const auditKeys = (store: MemoryStore) => [...store.objects.keys()].filter((k) => k.startsWith(AUDIT_PREFIX));

describe('Function: handleChat — the audit record', () => {
  it('records a run it starts: who, the command, the targets as asked, the values it may keep, its run id', async () => {
    const h = harness();
    const answer = await say(h, `run login on i-bp1audit0001 i-bp1audit0002 with user=${SECRET}-x token=${SECRET} timeout 90 max-errors 10%`);
    const runId = /^Run (r-\S+) started/.exec(answer.json.message)?.[1];
    expect(runId, answer.json.message).toBeDefined();
    const [key, ...more] = auditKeys(h.store);
    expect(more).toEqual([]);
    expect(parseAuditKey(key!)).toMatchObject({ at: '2026-11-23T10:15:00.123Z', kind: 'run', result: 'started', runId });
    const text = h.store.objects.get(key!)!.toString('utf8');
    expect(parseAuditRecord(text)).toEqual({
      version: 1,
      at: '2026-11-23T10:15:00.123Z',
      who: { kind: 'chat', user: 'webhook:alice' },
      kind: 'run',
      runId,
      command: 'login',
      targets: { instanceIds: ['i-bp1audit0001', 'i-bp1audit0002'] },
      // A value that repeats the secret keeps the secret's place redacted.
      parameters: { user: '***-x' },
      withheld: ['token'],
      timeoutSeconds: 90,
      maxErrors: '10%',
      outcome: { result: 'started' },
    });
    expect(findSecrets(text, [SECRET], key!)).toEqual([]);
  });

  it('keeps of a free-form script only its hash and length', async () => {
    const h = harness();
    const script = `curl -u admin:${SECRET} https://example.com`;
    const answer = await say(h, `run script "${script}" on i-bp1audit0001`);
    expect(answer.json.message).toMatch(/^Run r-\S+ started/);
    const text = h.store.objects.get(auditKeys(h.store)[0]!)!.toString('utf8');
    expect(parseAuditRecord(text)).toMatchObject({ command: 'script', script: { sha256: expect.stringMatching(/^[0-9a-f]{64}$/), bytes: Buffer.byteLength(script) } });
    expect(text).not.toContain('curl');
    expect(findSecrets(text, [SECRET], 'record')).toEqual([]);
  });

  it('fails nothing when the record cannot be written: the run is handed over, the answer says so, the failure is logged', async () => {
    const h = harness();
    h.store.failPuts = (key) => key.startsWith(AUDIT_PREFIX);
    const answer = await say(h, `run login on i-bp1audit0001 with token=${SECRET}`);
    expect(answer.status).toBe(200);
    expect(answer.json.message).toMatch(/^Run r-\S+ started/);
    expect(h.dispatched).toHaveLength(1);
    expect(auditKeys(h.store)).toEqual([]);
    const failed = h.logs.filter((l) => l.includes('audit record not written'));
    expect(failed).toHaveLength(1);
    expect(JSON.parse(failed[0]!)).toMatchObject({ level: 'warn', kind: 'run', result: 'started' });
    expect(failed[0]).not.toContain(SECRET);

    // A refusal too is answered as ever.
    const refused = await say(h, 'stop r-20261123t101500-1a2b3c', 'mallory');
    expect(refused).toMatchObject({ status: 403, json: { code: 'NotAllowed' } });
  });

  it('records nothing for what changes nothing: help, an allowed jobs', async () => {
    const h = harness();
    await say(h, 'help');
    await say(h, 'jobs');
    expect(auditKeys(h.store)).toEqual([]);
  });
});
