/**
 * The access policy: who may do what, on which instances, from which channels. Deny by default:
 * a request is allowed only by a rule that matches it entirely, and the first such rule wins.
 * `help` is always allowed.
 *
 * ```yaml
 * rules:
 *   - name: ops-on-demo
 *     users: ['slack:U123', 'dingtalk:*', 'webhook:ci-bot']   # platform:userId, * wildcards
 *     channels: ['slack:C9*']                                   # optional: only from these
 *     commands: [disk-check, uptime]                            # catalog names, or ['*']
 *     targets:                                                  # optional; absent = any
 *       tags: { env: [demo, staging] }                          # the run must be limited to these
 *       # instanceIds: ['i-abc*']
 *     maxTargets: 200                                           # optional
 *     allowScript: false                                        # free-form scripts
 *     actions: [run, status, stop, retry, jobs]                 # default: all
 *     approval: required                                        # optional: runs it allows wait for approval
 *     approvers: ['slack:U456']                                 # optional: who may approve them
 * ```
 *
 * Tag rules are about where a run can land. Tags in a request are ANDed, so a request is within a
 * rule when, for every tag the rule names, the request filters on that tag with an allowed value;
 * further tags in the request only narrow the set and are fine. A request that leaves out a tag
 * the rule names (`on role=web` against `env: [demo]`) could reach any env, so it is denied.
 *
 * `status` and `stop` are decisions on the run they name, as it was asked for: a rule allows them
 * only for runs within its `commands` (or scripts, with `allowScript`) and its `targets`, exactly
 * as it would allow `run` of that run; `maxTargets` bounds only `run`. So a rule that allows `run`
 * allows `status` and `stop` of the same commands on the same targets, whoever started the run. A
 * rule that can run nothing (no `commands`, no `allowScript`: `actions: [status]`, say) covers
 * runs of every command on its targets.
 *
 * `retry` is decided like `status` and `stop`, on the run it names; the new run it starts is then
 * decided as a `run` too (chatops/retry-run.ts), so retrying needs both.
 *
 * `approval: required` on the rule that allows a `run` holds the run until someone else approves
 * it (chatops/approvals.ts); the approver needs a rule allowing them that `run` themselves, and
 * must match `approvers` when the rule lists them.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { Targets } from '../cloud-assistant/targets.ts';
import { parseYamlFile } from './catalog.ts';

import { approvalFields, approvalNeedOf, principal, type ApprovalNeed } from './approval-fields.ts';

export { CHAT_PLATFORMS } from './approval-fields.ts';

/** What a rule can allow; `help` is not among them because it is always allowed. */
export const POLICY_ACTIONS = ['run', 'status', 'stop', 'retry', 'jobs'] as const;
export type PolicyAction = (typeof POLICY_ACTIONS)[number] | 'help';

/** A policy file that cannot be used; the message names the file, the rule and the field. */
export class PolicyError extends Error {
  override readonly name = 'PolicyError';
}


const tagValues = z
  .union([z.string(), z.number(), z.boolean(), z.array(z.union([z.string(), z.number(), z.boolean()])).min(1, 'lists no values')])
  .transform((v) => (Array.isArray(v) ? v : [v]).map(String));

const ruleSchema = z
  .strictObject({
    name: z.string().min(1).max(64),
    users: z.array(principal).min(1, 'lists nobody'),
    channels: z.array(principal).min(1, 'lists no channels (leave it out to allow any)').optional(),
    commands: z.array(z.string().min(1)).default([]),
    targets: z
      .strictObject({
        tags: z.record(z.string().min(1), tagValues).optional(),
        instanceIds: z.array(z.string().regex(/^i-[a-z0-9*]+$|^\*$/, 'looks like i-bp1abc… (with * wildcards)')).min(1, 'lists no instances').optional(),
      })
      .refine((t) => t.tags !== undefined || t.instanceIds !== undefined, 'names neither tags nor instanceIds (leave targets out to allow any)')
      .optional(),
    maxTargets: z.number().int().min(1).optional(),
    allowScript: z.boolean().default(false),
    actions: z
      .array(z.enum(POLICY_ACTIONS, { error: `an action is one of ${POLICY_ACTIONS.join(', ')} (help is always allowed)` }))
      .min(1)
      .default([...POLICY_ACTIONS]),
    ...approvalFields,
  })
  .superRefine((r, ctx) => {
    if (r.actions.includes('run') && r.commands.length === 0 && !r.allowScript)
      ctx.addIssue({ code: 'custom', path: ['commands'], message: 'the rule allows "run" but no commands and no scripts; list commands, or drop "run" from actions' });
  });

const policySchema = z
  .strictObject({ rules: z.array(ruleSchema) })
  .superRefine((p, ctx) => {
    const seen = new Set<string>();
    p.rules.forEach((r, n) => {
      if (seen.has(r.name)) ctx.addIssue({ code: 'custom', path: ['rules', n, 'name'], message: `rule name "${r.name}" is used twice` });
      seen.add(r.name);
    });
  });

/** A parsed policy; rules are tried in file order. */
export type Policy = z.output<typeof policySchema>;
/** One rule of a policy, defaults filled in. */
export type PolicyRule = Policy['rules'][number];

/** Who is asking: the platform, their id there, and the channel when there is one. */
export interface Requester {
  platform: string;
  userId: string;
  channelId?: string;
}

/**
 * What is asked. For `run`: the catalog command (or `script`), the targets as asked and, once
 * resolved, their number (`targetCount`). For `status` and `stop`: the command (or `script`) and
 * targets of the run they name, as it was asked for; without them a rule that limits commands or
 * targets does not allow.
 */
export interface AccessRequest {
  action: PolicyAction;
  command?: string;
  script?: boolean;
  targets?: Targets;
  targetCount?: number;
}

/** The decision, with the rule that allowed it and a reason fit to show the requester. */
export interface Decision {
  allow: boolean;
  rule?: string;
  reason: string;
  /** The allowing rule's `approval: required` (a `run` then waits for someone else to approve it). */
  approval?: ApprovalNeed;
}

/** Points at a rule by its name, read back from the YAML, which says more than its index. */
function policyWhere(path: PropertyKey[], data: unknown): string {
  if (path[0] !== 'rules' || typeof path[1] !== 'number') return path.join('.') || '(top level)';
  const rules = (data as { rules?: unknown } | null)?.rules;
  const name = Array.isArray(rules) ? (rules[path[1]] as { name?: unknown } | null)?.name : undefined;
  const label = typeof name === 'string' ? `rule "${name}"` : `rule ${path[1] + 1}`;
  const rest = path.slice(2);
  return `${label}${rest.length ? `, ${rest.join('.')}` : ''}`;
}

/** Parses a policy file's text; a problem names the file (`source`), the rule and the field. */
export function parsePolicy(text: string, source = 'policy file'): Policy {
  return parseYamlFile(text, source, policySchema, policyWhere, (m, cause) => new PolicyError(m, { cause }));
}

/** Reads and parses a policy file. */
export async function loadPolicy(path: string): Promise<Policy> {
  return parsePolicy(await readFile(path, 'utf8'), path);
}

/** `*` matches any run of characters; everything else is literal. */
function wildcard(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[\\s\\S]*')}$`);
}

function matchesAny(patterns: readonly string[], value: string): boolean {
  return patterns.some((p) => wildcard(p).test(value));
}

/** `platform:id` patterns: the platform ignores case, the id does not (Slack ids are case-sensitive). */
export function matchesPrincipal(patterns: readonly string[], platform: string, id: string): boolean {
  return patterns.some((p) => {
    const colon = p.indexOf(':');
    const pp = p.slice(0, colon).toLowerCase();
    return (pp === '*' || pp === platform) && wildcard(p.slice(colon + 1)).test(id);
  });
}

/** Why `rule` does not allow the command (or script) of `request`, or undefined when it does. */
function commandMismatch(rule: PolicyRule, request: AccessRequest, r: string): string | undefined {
  // A rule that can run nothing is a rule for looking at and stopping runs: every command's.
  if (request.action !== 'run' && rule.commands.length === 0 && !rule.allowScript) return undefined;
  if (request.script) return rule.allowScript ? undefined : `${r} does not allow free-form scripts`;
  if (!request.command) return `${r}: the run names no command`;
  if (!matchesAny(rule.commands, request.command)) return `${r} does not allow command "${request.command}"`;
  return undefined;
}

/** Why `rule` does not allow the targets of `request`, or undefined when it does. */
function targetsMismatch(rule: PolicyRule, request: AccessRequest, r: string): string | undefined {
  if (!rule.targets) return undefined;
  const t = request.targets;
  if (!t) return `${r} limits targets, and the run names none`;
  if ('instanceIds' in t) {
    if (!rule.targets.instanceIds) return `${r} allows only targets chosen by tag`;
    if (t.instanceIds.length === 0) return `${r}: the run names no instances`;
    const outside = t.instanceIds.find((id) => !matchesAny(rule.targets!.instanceIds!, id));
    if (outside) return `${r} does not allow instance ${outside}`;
    return undefined;
  }
  if (!rule.targets.tags) return `${r} allows only targets chosen by instance id`;
  for (const [key, allowed] of Object.entries(rule.targets.tags)) {
    const value = Object.hasOwn(t.tags, key) ? t.tags[key] : undefined;
    if (value === undefined)
      return request.action === 'run'
        ? `${r} needs the run limited to tag ${key} (${allowed.join(', ')}): add ${key}=… to "on"`
        : `${r} covers only runs limited to tag ${key} (${allowed.join(', ')}), and this run is not`;
    if (!matchesAny(allowed, value)) return `${r} does not allow tag ${key}=${value} (${key} may be ${allowed.join(', ')})`;
  }
  return undefined;
}

/** Why `rule` does not allow `request` (the requester already matched it), or undefined when it does. */
function mismatch(rule: PolicyRule, request: AccessRequest): string | undefined {
  const r = `rule "${rule.name}"`;
  if (!(rule.actions as readonly string[]).includes(request.action)) return `${r} does not allow "${request.action}"`;
  if (request.action === 'jobs') return undefined;
  const why = commandMismatch(rule, request, r) ?? targetsMismatch(rule, request, r);
  if (why !== undefined || request.action !== 'run') return why;

  if (rule.maxTargets !== undefined) {
    const count = request.targetCount ?? (request.targets && 'instanceIds' in request.targets ? new Set(request.targets.instanceIds).size : undefined);
    // Fail closed: a limit that cannot be checked is not met.
    if (count === undefined) return `${r} allows at most ${rule.maxTargets} targets, and the number of targets is not known yet`;
    if (count > rule.maxTargets) return `${r} allows at most ${rule.maxTargets} targets; this run has ${count}`;
  }
  return undefined;
}

const MAX_REASONS = 3;

/**
 * Tries the rules in order: the first whose users (and channels) include the requester and which
 * `allows` (returns no reason against) decides. The reason names that rule, or why none did.
 */
function firstRule(policy: Policy, who: Requester, allows: (rule: PolicyRule) => string | undefined): Decision {
  const platform = who.platform.toLowerCase();
  const reasons: string[] = [];
  let userKnown = false;
  for (const rule of policy.rules) {
    if (!matchesPrincipal(rule.users, platform, who.userId)) continue;
    userKnown = true;
    if (rule.channels && (who.channelId === undefined || !matchesPrincipal(rule.channels, platform, who.channelId))) {
      reasons.push(`rule "${rule.name}" applies only in certain channels`);
      continue;
    }
    const why = allows(rule);
    if (why === undefined) {
      const approval = approvalNeedOf(rule);
      return { allow: true, rule: rule.name, reason: `allowed by rule "${rule.name}"`, ...(approval ? { approval } : {}) };
    }
    reasons.push(why);
  }
  const me = `${platform}:${who.userId}`;
  if (!userKnown) return { allow: false, reason: `no rule lets ${me} use fleetrun (denied by default)` };
  const shown = reasons.slice(0, MAX_REASONS).join('; ');
  const more = reasons.length > MAX_REASONS ? `; and ${reasons.length - MAX_REASONS} more` : '';
  return { allow: false, reason: `denied: ${shown}${more}` };
}

/**
 * Decides a request: `help` always; anything else only by the first rule whose users (and
 * channels) include the requester and which allows the action, command or script, targets and
 * (for `run`) target count. The reason names the rule that allowed, or why none did; it never
 * holds parameter values (the request carries none).
 */
export function decide(policy: Policy, who: Requester, request: AccessRequest): Decision {
  if (request.action === 'help') return { allow: true, reason: 'help is always allowed' };
  return firstRule(policy, who, (rule) => mismatch(rule, request));
}

/**
 * Whether some rule lets the requester ask for `action` at all, before the run it names is looked
 * up: someone no rule allows `status` or `stop` is refused without learning whether the run
 * exists. The decision on the run itself is {@link decide}'s.
 */
export function decideAction(policy: Policy, who: Requester, action: PolicyAction): Decision {
  if (action === 'help') return { allow: true, reason: 'help is always allowed' };
  return firstRule(policy, who, (rule) => ((rule.actions as readonly string[]).includes(action) ? undefined : `rule "${rule.name}" does not allow "${action}"`));
}
