/**
 * shared/config/required-actions.ts (what fleetrun doctor holds the policy to) against reality:
 * the same actions as deploy/ram-policy.json, which test/e2e/ram-policy-minimal.test.ts proves
 * against the running code (every action needed, none spare), and the same resources the local
 * services ask RAM for (local/ram/requests.ts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FUNCTION_ENV_SCHEMAS } from '../../shared/config/function-envs.ts';
import { REQUIRED_ACTIONS, resourcesFor } from '../../shared/config/required-actions.ts';
import { ecsRequest, fcInvokeRequest, mnsRequest, ossRequest } from '../../local/ram/requests.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const where = { regionId: '{region}', accountId: '{account}' };
const noQuery = { get: () => null, has: () => false };

/** What the local service asks RAM for the entry's call, with the templates' placeholders as names. */
function asked(action: string, resources: readonly string[]): string[] {
  const [service, name] = action.split(':') as [string, string];
  switch (service) {
    case 'ecs':
      return ecsRequest(name, {}, where).resources;
    case 'mns':
      return mnsRequest(name, '{queue}', where).resources;
    case 'fc':
      return fcInvokeRequest('{dispatchFunction}', where).resources;
    case 'oss':
      return resources.flatMap((r) => {
        const [, bucket = '', key = ''] = /^acs:oss:\*:\{account\}:([^/]+)\/?(.*)$/.exec(r) ?? [];
        return ossRequest(name === 'PutObject' ? 'PUT' : name === 'DeleteObject' ? 'DELETE' : 'GET', bucket, key, noQuery, '{account}').resources;
      });
    default:
      return [...resources];
  }
}

describe('REQUIRED_ACTIONS', () => {
  it('names exactly the actions deploy/ram-policy.json allows', () => {
    const policy = JSON.parse(readFileSync(path.join(ROOT, 'deploy/ram-policy.json'), 'utf8')) as { Statement: { Action: string | string[] }[] };
    const allowed = new Set(policy.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])));
    expect([...new Set(REQUIRED_ACTIONS.map((e) => e.action))].sort()).toEqual([...allowed].sort());
  });

  it.each(REQUIRED_ACTIONS.map((e) => [e.action, e] as const))('%s: the resources are the ones the local service asks RAM for', (_action, entry) => {
    expect(entry.resources).toEqual(asked(entry.action, entry.resources));
  });

  it('names real functions, and says for each entry which code calls it', () => {
    for (const e of REQUIRED_ACTIONS) {
      expect(e.functions.length, e.action).toBeGreaterThan(0);
      for (const f of e.functions) expect(Object.keys(FUNCTION_ENV_SCHEMAS), e.action).toContain(f);
      expect(e.calledBy.length, e.action).toBeGreaterThan(10);
    }
  });

  it('fills the templates from the environment, and skips a call the function is not given the variable for', () => {
    const env = { FLEETRUN_REGION: 'cn-shanghai', FLEETRUN_ACCOUNT_ID: '42', FLEETRUN_BUCKET: 'my-runs', FLEETRUN_RESULT_QUEUE: 'q' };
    const put = REQUIRED_ACTIONS.find((e) => e.action === 'oss:PutObject')!;
    expect(resourcesFor(put, env)).toEqual(['acs:oss:*:42:my-runs/*']);
    const send = REQUIRED_ACTIONS.find((e) => e.action === 'mns:SendMessage')!;
    expect(resourcesFor(send, env)).toEqual(['acs:mns:cn-shanghai:42:/queues/q/messages']);
    const outputs = REQUIRED_ACTIONS.find((e) => e.action === 'oss:GetObject' && e.resources[0]!.includes('{outputBucket}'))!;
    expect(resourcesFor(outputs, env)).toBeUndefined();
    expect(resourcesFor(outputs, { ...env, FLEETRUN_OUTPUT_BUCKET: 'out' })).toEqual(['acs:oss:*:42:out/fleetrun-output/*']);
    const slr = REQUIRED_ACTIONS.find((e) => e.action === 'ram:CreateServiceLinkedRole')!;
    expect(resourcesFor(slr, env)).toBeUndefined();
    // chatops is not given FLEETRUN_DISPATCH_FUNCTION in every s.yaml: the function's own default applies.
    const invoke = REQUIRED_ACTIONS.find((e) => e.action === 'fc:InvokeFunction')!;
    expect(resourcesFor(invoke, env)).toEqual(['acs:fc:cn-shanghai:42:functions/fleetrun-dispatch']);
  });
});
