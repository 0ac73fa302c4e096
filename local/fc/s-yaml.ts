/**
 * Reads a Serverless Devs `s.yaml` the way the local cloud needs it: the `ros` stacks (the cloud
 * resources, evaluated as ROS would: ../ros/template.ts) and the fc3 functions with their
 * environment and triggers, with the magic variables resolved (`${vars.x}`, `${env('NAME',
 * 'default')}`, `${config('AccountID')}`, `${path('..')}`, `${file('..')}` and a stack's outputs,
 * `${resources.<name>.output.<Key>}`). Resources of other components are kept and reported, never an error.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { evaluateRosTemplate, parseRosTemplate, RosTemplateError, type EvaluatedStack } from '../ros/template.ts';

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

/** A resource of the `ros` component: one ROS stack, from a template or a Terraform folder. */
export interface StackSpec {
  /** The resource's name in s.yaml. */
  resource: string;
  region: string;
  /** A ROS template, evaluated: its resources and outputs. */
  template?: EvaluatedStack;
  /** A Terraform folder (absolute), read when the stack is created (../ros/terraform-stack.ts). */
  terraformDir?: string;
}

export interface SYaml {
  name: string;
  vars: Record<string, unknown>;
  /** The `ros` stacks, in s.yaml order. */
  stacks: StackSpec[];
  functions: FunctionSpec[];
  /** Resources of other components, which the local cloud skips. */
  skipped: { resource: string; component: string }[];
}

const stackPropsSchema = z.looseObject({
  region: z.string(),
  name: z.string(),
  template: z.union([z.string(), z.looseObject({})]).optional(),
  terraform: z.string().optional(),
  parameters: z.record(z.string(), z.unknown()).default({}),
});

/** Stack outputs by s.yaml resource name, for `${resources.<name>.output.<Key>}`. */
type Outputs = Map<string, Record<string, string>>;

const CALL = /^(\w+)\(\s*(.*?)\s*\)$/s;

function args(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/'([^']*)'|"([^"]*)"|([^,\s]+)/g)) out.push(m[1] ?? m[2] ?? m[3] ?? '');
  return out;
}

/** Resolves one `${…}` expression. */
function resolveExpression(expr: string, vars: Record<string, unknown>, ctx: ResolveContext, outputs: Outputs): unknown {
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
      case 'file':
        try {
          return readFileSync(path.resolve(ctx.baseDir, a), 'utf8');
        } catch (e) {
          throw new SYamlError(`\${${expr}}: ${(e as Error).message}`);
        }
      default:
        throw new SYamlError(`unknown s.yaml function ${name}() in \${${expr}}`);
    }
  }
  const [root, ...rest] = expr.trim().split('.');
  if (root === 'resources' && rest[1] === 'output') {
    const stack = outputs.get(rest[0]!);
    if (!stack) throw new SYamlError(`\${${expr}}: no ros stack named ${rest[0]} with a template is declared before it`);
    const value = stack[rest.slice(2).join('.')];
    if (value === undefined) throw new SYamlError(`\${${expr}}: stack ${rest[0]} has no output ${rest.slice(2).join('.')} (it has ${Object.keys(stack).join(', ')})`);
    return value;
  }
  // Other names (the fc3 component's own, such as ${functionName} in a trigger) stay for later.
  if (root !== 'vars') return `\${${expr}}`;
  let value: unknown = vars;
  for (const part of rest) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
  if (value === undefined) throw new SYamlError(`\${${expr}} is not defined in vars`);
  return value;
}

function resolveValue(value: unknown, vars: Record<string, unknown>, ctx: ResolveContext, outputs: Outputs = new Map()): unknown {
  if (typeof value === 'string') {
    const whole = /^\$\{([^}]+)\}$/.exec(value);
    if (whole) return resolveExpression(whole[1]!, vars, ctx, outputs);
    return value.replace(/\$\{([^}]+)\}/g, (_m, e: string) => String(resolveExpression(e, vars, ctx, outputs)));
  }
  if (Array.isArray(value)) return value.map((v) => resolveValue(v, vars, ctx, outputs));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveValue(v, vars, ctx, outputs)]));
  return value;
}

/** The component a resource names, without a version or a path: `ros@0.1` and `./components/ros` are `ros`. */
function componentKind(component: string, props: unknown): 'fc3' | 'ros' | 'other' {
  const base = component.replace(/@[^/]*$/, '').split('/').pop() ?? component;
  if (base === 'ros') return 'ros';
  // The component may be given by version or path (fc3@dev, ${path('../')}); the props tell what it is.
  if (/fc3/.test(component) || (props !== null && typeof props === 'object' && 'functionName' in props)) return 'fc3';
  return 'other';
}

/** A `ros` resource as a stack: its template evaluated now (outputs feed the functions), or its Terraform folder. */
function stackOf(resource: string, rawProps: unknown, vars: Record<string, unknown>, ctx: ResolveContext, source: string): StackSpec {
  const props = stackPropsSchema.safeParse(resolveValue(rawProps, vars, ctx));
  if (!props.success) {
    const issue = props.error.issues[0]!;
    throw new SYamlError(`${source}: resources.${resource}.props.${issue.path.join('.')}: ${issue.message}`);
  }
  const { region, name, template, terraform, parameters } = props.data;
  if ((template === undefined) === (terraform === undefined)) throw new SYamlError(`${source}: resources.${resource}.props: give one of template and terraform`);
  if (terraform !== undefined) return { resource, region, terraformDir: path.resolve(ctx.baseDir, terraform) };
  const file = typeof template === 'string' ? path.resolve(ctx.baseDir, template) : undefined;
  try {
    const text = file ? readFileSync(file, 'utf8') : JSON.stringify(template);
    const parsed = parseRosTemplate(text, file ?? `resources.${resource}.props.template`);
    const accountId = ctx.config.AccountID ?? '';
    return { resource, region, template: evaluateRosTemplate(parsed, { stackName: name, region, accountId, parameters }, file ?? resource) };
  } catch (e) {
    if (e instanceof RosTemplateError) throw new SYamlError(`${source}: resources.${resource}: ${e.message}`);
    throw new SYamlError(`${source}: resources.${resource}.props.template: ${(e as Error).message}`);
  }
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
  const stacks: StackSpec[] = [];
  const outputs: Outputs = new Map();
  const functions: FunctionSpec[] = [];
  const skipped: SYaml['skipped'] = [];
  const kinds = Object.entries(top.data.resources).map(([resource, r]) => {
    const component = String(resolveValue(r.component, vars, ctx));
    return { resource, r, component, kind: componentKind(component, r.props) };
  });
  // Stacks first: Serverless Devs deploys a resource after those whose outputs it reads.
  for (const { resource, r, kind } of kinds) {
    if (kind !== 'ros') continue;
    const stack = stackOf(resource, r.props, vars, ctx, source);
    stacks.push(stack);
    if (stack.template) outputs.set(resource, stack.template.outputs);
  }
  for (const { resource, r, component, kind } of kinds) {
    if (kind === 'ros') continue;
    if (kind === 'other') {
      skipped.push({ resource, component });
      continue;
    }
    const props = propsSchema.safeParse(resolveValue(r.props, vars, ctx, outputs));
    if (!props.success) {
      const issue = props.error.issues[0]!;
      throw new SYamlError(`${source}: resources.${resource}.props.${issue.path.join('.')}: ${issue.message}`);
    }
    // The fc3 component fills ${functionName} in trigger settings (its MNS source naming does).
    const triggers = JSON.parse(JSON.stringify(props.data.triggers).replaceAll('${functionName}', props.data.functionName)) as TriggerSpec[];
    functions.push({ resource, props: { ...props.data, triggers } });
  }
  return { name: top.data.name, vars, stacks, functions, skipped };
}

export async function loadSYaml(file: string, ctx: Omit<ResolveContext, 'baseDir'>): Promise<SYaml> {
  return parseSYaml(await readFile(file, 'utf8'), { ...ctx, baseDir: path.dirname(path.resolve(file)) }, file);
}
