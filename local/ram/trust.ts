/**
 * A role's trust policy (AssumeRolePolicyDocument): who may assume the role. The local cloud asks
 * it when FC hands a function the credentials of the role its s.yaml names, as STS does when FC
 * assumes the role: a role that does not trust `fc.aliyuncs.com` gives the function no credentials.
 */
import { z } from 'zod';
import { wildcardMatch } from './evaluate.ts';

const stringOrList = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((v) => (typeof v === 'string' ? [v] : v));

const trustSchema = z.strictObject({
  Version: z.literal('1'),
  Statement: z
    .array(
      z.strictObject({
        Sid: z.string().optional(),
        Effect: z.enum(['Allow', 'Deny']),
        Action: stringOrList,
        Principal: z.strictObject({ Service: stringOrList.optional(), RAM: stringOrList.optional(), Federated: stringOrList.optional() }),
        Condition: z.unknown().optional(),
      }),
    )
    .min(1),
});

export interface TrustPolicy {
  source: string;
  statements: { effect: 'Allow' | 'Deny'; actions: string[]; services: string[] }[];
}

/**
 * Parses a trust policy. Conditions are refused rather than ignored: the local cloud does not evaluate them here.
 * @throws Error naming the source and the element that is wrong
 */
export function parseTrustPolicy(document: unknown, source: string): TrustPolicy {
  const parsed = trustSchema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${source}: not a RAM trust policy: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  if (parsed.data.Statement.some((s) => s.Condition !== undefined)) throw new Error(`${source}: the local cloud does not evaluate conditions in trust policies`);
  return { source, statements: parsed.data.Statement.map((s) => ({ effect: s.Effect, actions: s.Action, services: s.Principal.Service ?? [] })) };
}

/** Whether the cloud service (e.g. fc.aliyuncs.com) may assume the role: an Allow for sts:AssumeRole naming it, and no Deny. */
export function trustsService(policy: TrustPolicy, service: string): boolean {
  const matches = (s: TrustPolicy['statements'][number]): boolean => s.actions.some((a) => wildcardMatch(a, 'sts:AssumeRole', true)) && s.services.some((p) => wildcardMatch(p, service, true));
  return policy.statements.some((s) => s.effect === 'Allow' && matches(s)) && !policy.statements.some((s) => s.effect === 'Deny' && matches(s));
}
