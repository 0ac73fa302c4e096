/**
 * The audit record's shape (shared/runs/audit.ts): keys that sort by time and say what they hold,
 * values of declared non-secret parameters kept and every other value left out, and no secret
 * value in any form a redactor knows, wherever in the record a request put it.
 */
import { describe, expect, it } from 'vitest';
import { auditDayPrefix, auditedParameters, auditedScript, auditJson, auditKey, parseAuditKey, parseAuditRecord, refusedOutcome, secretValuesOf, type AuditRecordInput } from '../../shared/runs/audit.ts';
import { findSecrets } from '../support/secret-scan.ts';

const RUN = 'r-20261123t101500-1a2b3c';
const SECRET = 'tok-Zq9!x7"Lw$3';

function runRecord(over: Partial<Extract<AuditRecordInput, { kind: 'run' }>> = {}): AuditRecordInput {
  return { version: 1, at: '2026-11-23T10:15:00.123Z', who: { kind: 'chat', user: 'slack:U1', channel: 'C1' }, kind: 'run', runId: RUN, command: 'disk-check', targets: { tags: { env: 'demo' } }, outcome: { result: 'started' }, ...over };
}

describe('Audit keys', () => {
  it('put an event under its UTC day, named by time, kind, result and run, and read back the same parts', () => {
    const key = auditKey(runRecord(), RUN);
    expect(key).toBe(`audit/2026/11/23/2026-11-23T10:15:00.123Z-run.started-${RUN}.json`);
    expect(parseAuditKey(key)).toEqual({ key, at: '2026-11-23T10:15:00.123Z', kind: 'run', result: 'started', id: RUN, runId: RUN });
    const random = auditKey({ at: '2026-11-23T23:59:59.999Z', kind: 'chat', outcome: { result: 'refused' } }, '0a1b2c3d4e5f');
    expect(parseAuditKey(random)).toMatchObject({ kind: 'chat', result: 'refused', id: '0a1b2c3d4e5f', runId: undefined });
    // A time given with an offset lands on its UTC day.
    expect(auditDayPrefix(new Date('2026-12-31T23:30:00-02:00'))).toBe('audit/2027/01/01/');
    expect(() => auditKey(runRecord(), '../escape')).toThrow(/lowercase letters/);
    expect(parseAuditKey('runs/r-1/manifest.json')).toBeUndefined();
  });

  it('sort in the order the events happened, across days, months and years', () => {
    const times = ['2026-01-09T00:00:00.000Z', '2025-12-31T23:59:59.999Z', '2026-01-10T08:00:00.000Z', '2026-01-10T07:59:59.999Z', '2026-10-01T00:00:00.000Z'];
    const keys = times.map((at) => auditKey({ at, kind: 'stop', outcome: { result: 'requested' } }, RUN));
    expect([...keys].sort().map((k) => parseAuditKey(k)!.at)).toEqual([...times].sort());
  });
});

describe('Audit values', () => {
  const declared = { mount: {}, token: { secret: true } };

  it('keep declared non-secret values and only the names of secret and undeclared ones', () => {
    expect(auditedParameters({ mount: '/data', token: SECRET, extra: 'x' }, declared)).toEqual({ parameters: { mount: '/data' }, withheld: ['extra', 'token'] });
    // A command the catalog does not have: nothing says which values are secret, so none is kept.
    expect(auditedParameters({ mount: '/data', token: SECRET }, undefined)).toEqual({ parameters: {}, withheld: ['mount', 'token'] });
    expect(secretValuesOf({ mount: '/data', token: SECRET }, declared)).toEqual([SECRET]);
    expect(secretValuesOf({ token: SECRET }, undefined)).toEqual([]);
    // A parameter named like an object's own property is a plain key.
    expect(auditedParameters({ __proto__x: 'a' }, { __proto__x: {} }).parameters).toEqual({ __proto__x: 'a' });
  });

  it('keep a script as its hash and length only', () => {
    const script = `curl -H "Authorization: ${SECRET}" https://example.com`;
    const kept = auditedScript(script);
    expect(kept.bytes).toBe(Buffer.byteLength(script));
    expect(kept.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(kept)).not.toContain('Authorization');
  });

  it('hold no secret value in any form, wherever a request repeated it', () => {
    const record = runRecord({
      targets: { tags: { env: SECRET } },
      parameters: { mount: `/${SECRET}`, [SECRET]: 'named after it' },
      withheld: ['token'],
      outcome: refusedOutcome('NotAllowed', { policyReason: `rule "x" does not allow tag env=${SECRET}` }),
    });
    const json = auditJson(record, [SECRET]);
    expect(findSecrets(json, [SECRET], 'record')).toEqual([]);
    expect(json).toContain('***');
    // Still a record a reader takes.
    expect(parseAuditRecord(json)).toMatchObject({ kind: 'run', runId: RUN, outcome: { result: 'refused', code: 'NotAllowed' } });
  });

  it('redacts by position: a tag or parameter named like a field fleetrun fills is redacted, the field itself is not', () => {
    const secret = 'dispatch-code-9x';
    const record = runRecord({ targets: { tags: { kind: secret, at: secret } }, parameters: { code: secret, stage: secret }, outcome: refusedOutcome('NotAllowed', { policyReason: `no ${secret}`, stage: 'dispatch' }) });
    const json = auditJson(record, [secret]);
    expect(findSecrets(json, [secret], 'record')).toEqual([]);
    // The stage shares "dispatch" with the secret, and stays what it is: the record stays readable.
    expect(parseAuditRecord(json)).toMatchObject({ targets: { tags: { kind: '***', at: '***' } }, parameters: { code: '***', stage: '***' }, outcome: { stage: 'dispatch', code: 'NotAllowed', policy: 'no ***' } });
  });

  it('word a refusal by the code\'s fixed meaning, the policy\'s reason only for NotAllowed', () => {
    expect(refusedOutcome('BadGrammar', { policyReason: 'ignored' })).toEqual({ result: 'refused', code: 'BadGrammar', reason: expect.stringContaining('grammar'), stage: 'chat' });
    expect(refusedOutcome('NotAllowed', { policyReason: 'denied: x', stage: 'dispatch' })).toMatchObject({ policy: 'denied: x', stage: 'dispatch' });
  });

  it('refuse a record that does not fit the schema, and skip one of a kind a reader does not know', () => {
    expect(() => auditJson({ ...runRecord(), outcome: { result: 'refused', code: 'NoSuchCode', reason: '' } } as unknown as AuditRecordInput)).toThrow();
    expect(() => auditJson(runRecord({ at: 'yesterday' }))).toThrow();
    expect(parseAuditRecord(JSON.stringify({ ...runRecord(), kind: 'rollback' }))).toBeUndefined();
    expect(parseAuditRecord(JSON.stringify({ ...runRecord(), version: 2 }))).toBeUndefined();
    expect(parseAuditRecord('{not json')).toBeUndefined();
  });

  it('has room for approvals: a run waiting for one and each decision', () => {
    for (const result of ['requested', 'approved', 'denied', 'expired'] as const) {
      const json = auditJson({ version: 1, at: '2026-11-23T10:16:00.000Z', who: { kind: 'chat', user: 'slack:U2' }, kind: 'approval', runId: RUN, outcome: { result } });
      expect(parseAuditRecord(json)).toMatchObject({ kind: 'approval', outcome: { result } });
    }
  });
});
