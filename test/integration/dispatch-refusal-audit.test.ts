/**
 * A run refused by dispatch — its tag targets resolved past the rule's maxTargets — is kept in the
 * audit record as a refusal at dispatch, with the run's id, what it was asked for and the policy's
 * reason, its secret value opened only to be redacted from a non-secret value that repeats it.
 * Driven through handleDispatch against the local cloud (OSS and Cloud Assistant through their SDKs).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleDispatch } from '../../shared/chatops/dispatch-run.ts';
import { parseCatalog } from '../../shared/config/catalog.ts';
import { parsePolicy } from '../../shared/config/policy.ts';
import { NO_CHAT } from '../../shared/pipeline/finish-run.ts';
import { newRunId } from '../../shared/pipeline/start-run.ts';
import { AUDIT_PREFIX, parseAuditKey, parseAuditRecord } from '../../shared/runs/audit.ts';
import { buildRunSpec } from '../../shared/runs/build-run-spec.ts';
import { runKeys } from '../../shared/runs/keys.ts';
import { createLogger } from '../../shared/runtime/logger.ts';
import { fleetOf, REGION, startPipelineCloud, type PipelineCloud } from '../../local/cli/harness/pipeline-cloud.ts';
import { findSecrets } from '../support/secret-scan.ts';

// It shares `dispatch` with the record's stage: a field fleetrun fills itself stays readable.
const SECRET = 'dispatch-Secret-0099';
const CATALOG = parseCatalog(`
commands:
  login:
    description: logs in somewhere
    script: echo "$note $token"
    parameters:
      note: { description: a note }
      token: { description: a secret, secret: true, required: true }
`);
const POLICY = parsePolicy(`
rules:
  - name: two-at-most
    users: ['webhook:ci']
    commands: ['*']
    maxTargets: 2
`);

let pc: PipelineCloud;

beforeAll(async () => {
  pc = await startPipelineCloud(fleetOf('audit', [{ name: 'node', count: 3 }]));
}, 60_000);

afterAll(async () => pc?.close());

describe('A run refused at dispatch', () => {
  it('is kept in the audit record with its run, what was asked, the policy\'s reason, and no secret', async () => {
    const runId = newRunId();
    const spec = buildRunSpec(CATALOG, { command: 'login', with: { note: `see ${SECRET}`, token: SECRET }, targets: { tags: { env: 'audit' } }, requestedBy: { kind: 'chat', user: 'webhook:ci' } }, pc.cloud.sealKey);
    await pc.store.put(runKeys.pendingDispatch(runId), '{}');
    const outcome = await handleDispatch(
      { version: 1, kind: 'run', runId, requester: { platform: 'webhook', userId: 'ci' }, ...spec },
      { assistant: pc.assistant, store: pc.store, regionId: REGION, sealKey: pc.cloud.sealKey, policy: POLICY, sender: { send: async () => {} }, chat: NO_CHAT, logger: createLogger({ sink: () => {} }), clock: () => new Date('2026-11-23T10:15:01.000Z') },
    );
    expect(outcome).toMatchObject({ state: 'refused', reason: expect.stringContaining('at most 2 targets; this run has 3') });

    const keys: string[] = [];
    for await (const o of pc.store.list(AUDIT_PREFIX)) keys.push(o.key);
    expect(keys.map((k) => parseAuditKey(k))).toEqual([{ key: keys[0], at: '2026-11-23T10:15:01.000Z', kind: 'run', result: 'refused', id: runId, runId }]);
    const text = (await pc.store.get(keys[0]!))!.toString('utf8');
    expect(parseAuditRecord(text)).toEqual({
      version: 1,
      at: '2026-11-23T10:15:01.000Z',
      who: { kind: 'chat', user: 'webhook:ci' },
      kind: 'run',
      runId,
      command: 'login',
      targets: { tags: { env: 'audit' } },
      parameters: { note: 'see ***' },
      withheld: ['token'],
      timeoutSeconds: spec.command.timeoutSeconds,
      outcome: { result: 'refused', code: 'NotAllowed', reason: expect.any(String), policy: expect.stringContaining('at most 2 targets'), stage: 'dispatch' },
    });
    expect(findSecrets(text, [SECRET], keys[0]!)).toEqual([]);
    // Nothing ran, and the hand-off record is gone as before.
    expect(await pc.store.get(runKeys.manifest(runId))).toBeUndefined();
    expect(await pc.store.get(runKeys.pendingDispatch(runId))).toBeUndefined();
  }, 60_000);
});
