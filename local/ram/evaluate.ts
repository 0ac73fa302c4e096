/**
 * RAM's decision for one request against the policies of its caller (docs/ram.md "Evaluation"):
 * an explicit Deny that matches wins; otherwise every resource of the request needs a matching
 * Allow; no matching Allow is an implicit deny. Pure: no I/O, no clock.
 */
import type { AccessDecision, AccessRequest } from './access.ts';
import type { ConditionTest, PolicyDocument, PolicyStatement } from './policy.ts';

/** `*` any run of characters (also none), `?` exactly one; everything else literal. */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const v = ignoreCase ? value.toLowerCase() : value;
  // Iterative glob match with backtracking to the last `*`: linear in practice, no regex built from input.
  let pi = 0;
  let vi = 0;
  let star = -1;
  let mark = 0;
  while (vi < v.length) {
    if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = vi;
    } else if (pi < p.length && (p[pi] === '?' || p[pi] === v[vi])) {
      pi++;
      vi++;
    } else if (star >= 0) {
      pi = star + 1;
      vi = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

/** Action names are matched without regard to case, as RAM does for most services (docs/ram.md). */
function actionMatches(s: PolicyStatement, action: string): boolean {
  if (s.actions) return s.actions.some((a) => wildcardMatch(a, action, true));
  return !s.notActions!.some((a) => wildcardMatch(a, action, true));
}

function resourceMatches(s: PolicyStatement, resource: string): boolean {
  if (s.resources) return s.resources.some((r) => wildcardMatch(r, resource));
  return !s.notResources!.some((r) => wildcardMatch(r, resource));
}

/** Condition keys are looked up without regard to case (`acs:SourceIp` = `acs:sourceip`). */
function contextValues(context: AccessRequest['context'], key: string): string[] | undefined {
  if (!context) return undefined;
  const wanted = key.toLowerCase();
  for (const [k, v] of Object.entries(context)) if (k.toLowerCase() === wanted) return Array.isArray(v) ? v : [v];
  return undefined;
}

function ipv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text.trim());
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((n) => n > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/** `10.0.0.0/8` or a single address; IPv4 only (IPv6 ranges never match, see docs/ram.md). */
function inRange(address: string, range: string): boolean {
  const [base, bitsText] = range.split('/');
  const a = ipv4(address);
  const b = ipv4(base ?? '');
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  if (a === undefined || b === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return (a & mask) === (b & mask);
}

type Compare = (requestValue: string, policyValue: string) => boolean;

/** Positive operators: true when some request value matches some policy value; a missing key is false. */
const POSITIVE: Record<string, Compare> = {
  StringEquals: (r, p) => r === p,
  StringEqualsIgnoreCase: (r, p) => r.toLowerCase() === p.toLowerCase(),
  StringLike: (r, p) => wildcardMatch(p, r),
  NumericEquals: (r, p) => Number(r) === Number(p),
  NumericLessThan: (r, p) => Number(r) < Number(p),
  NumericLessThanEquals: (r, p) => Number(r) <= Number(p),
  NumericGreaterThan: (r, p) => Number(r) > Number(p),
  NumericGreaterThanEquals: (r, p) => Number(r) >= Number(p),
  Bool: (r, p) => r.toLowerCase() === p.toLowerCase(),
  IpAddress: (r, p) => inRange(r, p),
};

/** Negated operators: true when no request value matches any policy value; a missing key is true. */
const NEGATED: Record<string, string> = {
  StringNotEquals: 'StringEquals',
  StringNotEqualsIgnoreCase: 'StringEqualsIgnoreCase',
  StringNotLike: 'StringLike',
  NumericNotEquals: 'NumericEquals',
  NotIpAddress: 'IpAddress',
};

/** Whether an operator is one this evaluator knows; a statement using another never matches. */
export function isKnownOperator(operator: string): boolean {
  return Object.hasOwn(POSITIVE, operator) || Object.hasOwn(NEGATED, operator);
}

function conditionHolds(test: ConditionTest, context: AccessRequest['context']): boolean {
  const values = contextValues(context, test.key);
  if (Object.hasOwn(POSITIVE, test.operator)) {
    const compare = POSITIVE[test.operator]!;
    return values !== undefined && values.some((r) => test.values.some((p) => compare(r, p)));
  }
  if (Object.hasOwn(NEGATED, test.operator)) {
    const compare = POSITIVE[NEGATED[test.operator]!]!;
    return values === undefined || !values.some((r) => test.values.some((p) => compare(r, p)));
  }
  return false;
}

function statementLabel(doc: PolicyDocument, s: PolicyStatement, index: number): string {
  return `${doc.source} statement ${s.sid ? `"${s.sid}"` : `#${index + 1}`}`;
}

/**
 * Decides a request. Resources: every one must be allowed and none denied (a RunCommand on three
 * instances needs all three). A statement with an operator this evaluator does not know does not
 * match, for Allow and Deny alike; the reason then names it, so a test can tell why.
 */
export function evaluate(policies: readonly PolicyDocument[], request: AccessRequest): AccessDecision {
  const resources = request.resources.length > 0 ? request.resources : ['*'];
  const unknownOperators = new Set<string>();
  const applies = (s: PolicyStatement, resource: string): boolean => {
    if (!actionMatches(s, request.action) || !resourceMatches(s, resource)) return false;
    for (const c of s.conditions) {
      if (!isKnownOperator(c.operator)) {
        unknownOperators.add(c.operator);
        return false;
      }
    }
    return s.conditions.every((c) => conditionHolds(c, request.context));
  };

  for (const resource of resources) {
    for (const doc of policies) {
      for (const [i, s] of doc.statements.entries()) {
        if (s.effect === 'Deny' && applies(s, resource)) {
          return { allowed: false, reason: `explicit deny: ${statementLabel(doc, s, i)} denies ${request.action} on ${resource}` };
        }
      }
    }
  }
  for (const resource of resources) {
    const allowed = policies.some((doc) => doc.statements.some((s) => s.effect === 'Allow' && applies(s, resource)));
    if (!allowed) {
      const note = unknownOperators.size > 0 ? ` (statements with unsupported condition operators ${[...unknownOperators].join(', ')} did not match)` : '';
      return { allowed: false, reason: `implicit deny: no statement allows ${request.action} on ${resource}${note}` };
    }
  }
  return { allowed: true };
}
