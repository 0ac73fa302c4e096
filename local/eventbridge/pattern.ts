/**
 * EventBridge event patterns, as an s.yaml `eventRuleFilterPattern` writes them: a value list is
 * an OR, keys are an AND, objects nest like the event. Operators: `prefix`, `suffix`, `contains`,
 * `anything-but` (a value, a list, or `{prefix}`), `numeric`, `cidr`, `exists`, and `""` for the
 * empty string. No maintained package implements Alibaba's pattern language, hence this file.
 * @see docs/platform-facts.md §2
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';

export type EventPattern = { [key: string]: EventPattern | PatternValue[] };
type PatternValue = string | number | boolean | null | Record<string, unknown>;

export class PatternError extends Error {
  override readonly name = 'PatternError';
}

/** Parses `eventRuleFilterPattern` (JSON text in s.yaml) and checks its operators once, up front. */
export function parsePattern(text: string): EventPattern {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new PatternError(`event pattern is not JSON: ${(e as Error).message}`);
  }
  checkPattern(value, '');
  return value as EventPattern;
}

const OPERATORS = new Set(['prefix', 'suffix', 'contains', 'anything-but', 'numeric', 'cidr', 'exists']);

function checkPattern(node: unknown, path: string): void {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) throw new PatternError(`${path || 'pattern'}: must be an object`);
  for (const [key, value] of Object.entries(node)) {
    const at = path ? `${path}.${key}` : key;
    if (Array.isArray(value)) {
      for (const m of value) {
        if (m !== null && typeof m === 'object') {
          const ops = Object.keys(m);
          if (ops.length !== 1 || !OPERATORS.has(ops[0]!)) throw new PatternError(`${at}: unknown matcher ${JSON.stringify(m)}`);
          if (ops[0] === 'numeric') numericTerms((m as { numeric: unknown }).numeric, at);
        }
      }
    } else checkPattern(value, at);
  }
}

function numericTerms(spec: unknown, at: string): [string, number][] {
  if (!Array.isArray(spec) || spec.length === 0 || spec.length % 2 !== 0) throw new PatternError(`${at}: numeric wants [op, n, ...]`);
  const terms: [string, number][] = [];
  for (let i = 0; i < spec.length; i += 2) {
    const op = spec[i];
    const n = spec[i + 1];
    if (!['=', '<', '<=', '>', '>='].includes(op as string) || typeof n !== 'number') throw new PatternError(`${at}: bad numeric term ${JSON.stringify([op, n])}`);
    terms.push([op as string, n]);
  }
  return terms;
}

function inCidr(value: unknown, cidr: string): boolean {
  if (typeof value !== 'string') return false;
  const [net, bits] = cidr.split('/');
  const family = isIPv4(net ?? '') ? 'ipv4' : isIPv6(net ?? '') ? 'ipv6' : undefined;
  if (!family || !(isIPv4(value) || isIPv6(value))) return false;
  const list = new BlockList();
  list.addSubnet(net!, Number(bits ?? (family === 'ipv4' ? 32 : 128)), family);
  return list.check(value, isIPv4(value) ? 'ipv4' : 'ipv6');
}

function matchOne(matcher: PatternValue, value: unknown, present: boolean): boolean {
  if (matcher === null || typeof matcher !== 'object') return present && value === matcher;
  const [op, arg] = Object.entries(matcher)[0]!;
  switch (op) {
    case 'exists':
      return arg === present;
    case 'prefix':
      return present && typeof value === 'string' && value.startsWith(String(arg));
    case 'suffix':
      return present && typeof value === 'string' && value.endsWith(String(arg));
    case 'contains':
      return present && typeof value === 'string' && value.includes(String(arg));
    case 'anything-but': {
      if (!present) return false;
      if (arg !== null && typeof arg === 'object' && !Array.isArray(arg) && 'prefix' in arg)
        return typeof value === 'string' && !value.startsWith(String((arg as { prefix: unknown }).prefix));
      const excluded = Array.isArray(arg) ? arg : [arg];
      return !excluded.includes(value);
    }
    case 'numeric':
      return present && typeof value === 'number' && numericTerms(arg, op).every(([o, n]) => (o === '=' ? value === n : o === '<' ? value < n : o === '<=' ? value <= n : o === '>' ? value > n : value >= n));
    case 'cidr':
      return present && inCidr(value, String(arg));
    default:
      return false;
  }
}

/** Whether an event matches a pattern. `{}` matches every event. */
export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  const obj = event !== null && typeof event === 'object' && !Array.isArray(event) ? (event as Record<string, unknown>) : {};
  return Object.entries(pattern).every(([key, expected]) => {
    const present = Object.hasOwn(obj, key);
    const value = obj[key];
    if (!Array.isArray(expected)) return present && matchesPattern(expected, value);
    const values = Array.isArray(value) ? value : [value];
    return expected.some((m) => (Array.isArray(value) && m !== null && typeof m !== 'object' ? values.includes(m) : values.some((v) => matchOne(m, v, present))));
  });
}
