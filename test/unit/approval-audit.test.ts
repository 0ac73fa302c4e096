/**
 * The audit records of a run held for approval (chatops/chat-audit.ts): the request keeps what the
 * run would do as a run record does — targets as asked, the declared non-secret parameters as typed
 * (defaults included), secret ones by name only, a value that repeats a secret redacted — and who
 * may approve it until when; each decision keeps the run's command and targets.
 */
import { describe, expect, it } from 'vitest';
import { approvalEvent, approvalRequestedEvent } from '../../shared/chatops/chat-audit.ts';
import { parseCatalog } from '../../shared/config/catalog.ts';
import { auditJson, parseAuditRecord } from '../../shared/runs/audit.ts';
import { buildRunSpec } from '../../shared/runs/build-run-spec.ts';
import { findSecrets } from '../support/secret-scan.ts';

const RUN = 'r-20261123t101500-1a2b3c';
const SEAL_KEY = 'b'.repeat(64);
const SECRET = 'held-Secret-0042';
const CATALOG = parseCatalog(`
commands:
  login:
    description: logs in somewhere
    script: echo "$note $token $region"
    parameters:
      note: { description: a note }
      region: { description: where, default: cn-hangzhou }
      token: { description: a secret, secret: true, required: true }
`);
const WHO = { kind: 'chat' as const, user: 'webhook:ci', channel: 'C1' };
const AT = new Date('2026-11-23T10:15:00.000Z');

describe('the audit record of a run held for approval', () => {
  const spec = buildRunSpec(CATALOG, { command: 'login', with: { note: `see ${SECRET}`, token: SECRET }, targets: { tags: { env: 'prod' } }, maxErrors: '10%', requestedBy: WHO }, SEAL_KEY);
  const hold = { approvers: ['slack:U0BOSS'], expiresAt: '2026-11-23T11:15:00.000Z' };

  it('keeps the targets as asked, parameters as typed with defaults, the secret one by name, limits, approvers and expiry', () => {
    const event = approvalRequestedEvent(RUN, spec, { who: WHO, at: AT }, hold, SEAL_KEY);
    const text = auditJson(event.record, event.secrets);
    expect(parseAuditRecord(text)).toEqual({
      version: 1,
      at: AT.toISOString(),
      who: WHO,
      kind: 'approval',
      runId: RUN,
      command: 'login',
      targets: { tags: { env: 'prod' } },
      parameters: { note: 'see ***', region: 'cn-hangzhou' },
      withheld: ['token'],
      timeoutSeconds: spec.command.timeoutSeconds,
      maxErrors: '10%',
      approvers: ['slack:U0BOSS'],
      expiresAt: hold.expiresAt,
      outcome: { result: 'requested' },
    });
    expect(findSecrets(text, [SECRET], 'the request record')).toEqual([]);
  });

  it('without the seal key at hand keeps no value at all, only names: a value could repeat a secret it cannot see', () => {
    const event = approvalRequestedEvent(RUN, spec, { who: WHO, at: AT }, hold, undefined);
    const text = auditJson(event.record, event.secrets);
    expect(parseAuditRecord(text)).toMatchObject({ parameters: {}, withheld: ['note', 'region', 'token'] });
    expect(findSecrets(text, [SECRET], 'the request record')).toEqual([]);
  });

  it('keeps a script as its hash and length', () => {
    const script = buildRunSpec(CATALOG, { command: 'script', with: {}, script: 'echo hi', targets: { instanceIds: ['i-1'] }, requestedBy: WHO }, SEAL_KEY);
    const record = parseAuditRecord(auditJson(approvalRequestedEvent(RUN, script, { who: WHO, at: AT }, { approvers: [], expiresAt: hold.expiresAt }, SEAL_KEY).record));
    expect(record).toMatchObject({ command: 'script', script: { bytes: 7 }, targets: { instanceIds: ['i-1'] }, approvers: [] });
    expect(JSON.stringify(record)).not.toContain('echo hi');
  });

  it('keeps each decision with the run\'s command and targets', () => {
    for (const result of ['approved', 'denied', 'expired'] as const) {
      const event = approvalEvent(RUN, { command: 'login', targets: { tags: { env: 'prod' } } }, { who: WHO, at: AT }, result);
      expect(parseAuditRecord(auditJson(event.record))).toEqual({ version: 1, at: AT.toISOString(), who: WHO, kind: 'approval', runId: RUN, command: 'login', targets: { tags: { env: 'prod' } }, outcome: { result } });
    }
  });
});
