/**
 * A RAM permission policy document, parsed: `Version` "1" and a list of statements, each with an
 * Effect, Action or NotAction, Resource or NotResource, and an optional Condition (docs/ram.md
 * "Policy language"). Every element that takes a list also takes a single string, as RAM allows.
 */
import { z } from 'zod';

const stringOrList = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((v) => (typeof v === 'string' ? [v] : v));

/** Condition values are strings in RAM's examples; booleans and numbers are accepted and compared as their text. */
const conditionValue = z.union([z.string(), z.boolean(), z.number()]).transform(String);
const conditionValues = z.union([conditionValue, z.array(conditionValue).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]));

const statementSchema = z
  .strictObject({
    Sid: z.string().optional(),
    Effect: z.enum(['Allow', 'Deny']),
    Action: stringOrList.optional(),
    NotAction: stringOrList.optional(),
    Resource: stringOrList.optional(),
    NotResource: stringOrList.optional(),
    Condition: z.record(z.string(), z.record(z.string(), conditionValues)).optional(),
  })
  .refine((s) => (s.Action === undefined) !== (s.NotAction === undefined), { message: 'a statement has exactly one of Action and NotAction' })
  .refine((s) => (s.Resource === undefined) !== (s.NotResource === undefined), { message: 'a statement has exactly one of Resource and NotResource' });

const policySchema = z.strictObject({
  Version: z.literal('1'),
  // "A list of one or more permission statements" (docs/ram.md).
  Statement: z.array(statementSchema).min(1),
});

/** One condition test: `operator` applied to the request's `key` against `values` (any of them). */
export interface ConditionTest {
  operator: string;
  key: string;
  values: string[];
}

export interface PolicyStatement {
  sid?: string | undefined;
  effect: 'Allow' | 'Deny';
  /** Exactly one of `actions` / `notActions` is set, likewise for resources. */
  actions?: string[] | undefined;
  notActions?: string[] | undefined;
  resources?: string[] | undefined;
  notResources?: string[] | undefined;
  /** All must hold (AND); within one test any value may match (OR). */
  conditions: ConditionTest[];
}

export interface PolicyDocument {
  /** Where the document came from, for messages (a file path, or a name a test gave). */
  source: string;
  statements: PolicyStatement[];
}

/**
 * Parses a policy document.
 * @throws Error naming the source and the element that is wrong
 */
export function parsePolicy(document: unknown, source: string): PolicyDocument {
  const parsed = policySchema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`RAM policy ${source}: ${issue.path.join('.') || '(document)'}: ${issue.message}`);
  }
  return {
    source,
    statements: parsed.data.Statement.map((s) => ({
      sid: s.Sid,
      effect: s.Effect,
      actions: s.Action,
      notActions: s.NotAction,
      resources: s.Resource,
      notResources: s.NotResource,
      conditions: Object.entries(s.Condition ?? {}).flatMap(([operator, tests]) => Object.entries(tests).map(([key, values]) => ({ operator, key, values }))),
    })),
  };
}
