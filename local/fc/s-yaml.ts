/**
 * Reads a Serverless Devs `s.yaml` (fc3 component) the way the local FC host needs it: the
 * functions, their environment and their triggers, with the magic variables resolved
 * (`${vars.x}`, `${env('NAME', 'default')}`, `${config('AccountID')}`, `${path('..')}`).
 * Anything the host does not serve is kept and reported, never an error.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

export class SYamlError extends Error {
  override readonly name = 'SYamlError';
}

export interface ResolveContext {
  env: Record<string, string | undefined>;
  config: Record<string, string>;
  /** Folder of the s.yaml, for path('..'). */
  baseDir: string;
}

const triggerSchema = z.looseObject({
  triggerName: z.string(),
  triggerType: z.string(),
  qualifier: z.string().optional(),
  triggerConfig: z.looseObject({}).default({}),
});
export type TriggerSpec = z.output<typeof triggerSchema>;

const propsSchema = z.looseObject({
  region: z.string(),
  functionName: z.string(),
  runtime: z.string(),
  code: z.union([z.string(), z.looseObject({})]).optional(),
  handler: z.string().default('index.handler'),
  timeout: z.coerce.number().default(3),
  memorySize: z.coerce.number().optional(),
  instanceConcurrency: z.coerce.number().default(1),
  environmentVariables: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
  role: z.string().optional(),
  triggers: z.array(triggerSchema).default([]),
});
export type FunctionProps = z.output<typeof propsSchema>;

export interface FunctionSpec {
  /** The resource's name in s.yaml. */
  resource: string;
  props: FunctionProps;
}

export interface SYaml {
  name: string;
  vars: Record<string, unknown>;
  functions: FunctionSpec[];
  /** Resources of other components, which the host skips. */
  skipped: { resource: string; component: string }[];
}

const CALL = /^(\w+)\(\s*(.*?)\s*\)$/s;

function args(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/'([^']*)'|"([^"]*)"|([^,\s]+)/g)) out.push(m[1] ?? m[2] ?? m[3] ?? '');
  return out;
}

/** Resolves one `${…}` expression. */
function resolveExpression(expr: string, vars: Record<string, unknown>, ctx: ResolveContext): unknown {
  const call = CALL.exec(expr.trim());
  if (call) {
    const [name, a = '', b] = [call[1]!, ...args(call[2]!)];
    switch (name) {
      case 'env':
        return ctx.env[a] ?? b ?? '';
      case 'config':
        return ctx.config[a] ?? '';
      case 'path':
        return path.resolve(ctx.baseDir, a);
      default:
        throw new SYamlError(`unknown s.yaml function ${name}() in \${${expr}}`);
    }
  }
  const [root, ...rest] = expr.trim().split('.');
  // Other names (the fc3 component's own, such as ${functionName} in a trigger) stay for later.
  if (root !== 'vars') return `\${${expr}}`;
  let value: unknown = vars;
  for (const part of rest) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
  if (value === undefined) throw new SYamlError(`\${${expr}} is not defined in vars`);
  return value;
}

function resolveValue(value: unknown, vars: Record<string, unknown>, ctx: ResolveContext): unknown {
  if (typeof value === 'string') {
    const whole = /^\$\{([^}]+)\}$/.exec(value);
    if (whole) return resolveExpression(whole[1]!, vars, ctx);
    return value.replace(/\$\{([^}]+)\}/g, (_m, e: string) => String(resolveExpression(e, vars, ctx)));
  }
  if (Array.isArray(value)) return value.map((v) => resolveValue(v, vars, ctx));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveValue(v, vars, ctx)]));
  return value;
}

export function parseSYaml(text: string, ctx: ResolveContext, source = 's.yaml'): SYaml {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new SYamlError(`${source}: not valid YAML: ${(e as Error).message}`);
  }
  const top = z
    .looseObject({ edition: z.string(), name: z.string(), vars: z.record(z.string(), z.unknown()).default({}), resources: z.record(z.string(), z.looseObject({ component: z.string(), props: z.unknown() })).default({}) })
    .safeParse(doc);
  if (!top.success) throw new SYamlError(`${source}: ${top.error.issues[0]!.path.join('.') || '(root)'}: ${top.error.issues[0]!.message}`);
  const vars = resolveValue(top.data.vars, {}, ctx) as Record<string, unknown>;
  const functions: FunctionSpec[] = [];
  const skipped: SYaml['skipped'] = [];
  for (const [resource, r] of Object.entries(top.data.resources)) {
    const component = String(resolveValue(r.component, vars, ctx));
    // The component may be given by version or path (fc3@dev, ${path('../')}); the props tell what it is.
    const looksFc3 = /(^|[/@])fc3\b|fc3/.test(component) || (r.props !== null && typeof r.props === 'object' && 'functionName' in r.props);
    if (!looksFc3) {
      skipped.push({ resource, component });
      continue;
    }
    const props = propsSchema.safeParse(resolveValue(r.props, vars, ctx));
    if (!props.success) {
      const issue = props.error.issues[0]!;
      throw new SYamlError(`${source}: resources.${resource}.props.${issue.path.join('.')}: ${issue.message}`);
    }
    // The fc3 component fills ${functionName} in trigger settings (its MNS source naming does).
    const triggers = JSON.parse(JSON.stringify(props.data.triggers).replaceAll('${functionName}', props.data.functionName)) as TriggerSpec[];
    functions.push({ resource, props: { ...props.data, triggers } });
  }
  return { name: top.data.name, vars, functions, skipped };
}

export async function loadSYaml(file: string, ctx: Omit<ResolveContext, 'baseDir'>): Promise<SYaml> {
  return parseSYaml(await readFile(file, 'utf8'), { ...ctx, baseDir: path.dirname(path.resolve(file)) }, file);
}
