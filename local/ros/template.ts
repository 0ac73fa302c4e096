/**
 * The local cloud's reading of a ROS template (deploy/cloud.ros.yaml): its parameters checked and
 * given, its intrinsic functions evaluated, its resources and outputs as ROS would create them.
 * Only what the project declares is understood — the resource types of {@link RESOURCE_TYPES} and
 * the functions Ref, Fn::Sub, Fn::GetAtt and Fn::Join; anything else is refused by name rather than
 * half-created, so a template the local cloud cannot stand for fails here first (docs/deployment-resources.md).
 */
import { randomUUID } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

export class RosTemplateError extends Error {
  override readonly name = 'RosTemplateError';
  /** ROS's error code where the local cloud knows it; `LocalCloudUnsupported` for what it does not emulate. */
  constructor(
    readonly code: 'InvalidTemplate' | 'InvalidParameter' | 'StackValidationFailed' | 'LocalCloudUnsupported',
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/** What the stack is created with: the values `props.parameters` of the ros component gives, and where. */
export interface StackContext {
  stackName: string;
  region: string;
  accountId: string;
  parameters: Record<string, unknown>;
}

/** One resource of the template, its properties evaluated. */
export interface EvaluatedResource {
  logicalId: string;
  type: ResourceType;
  properties: Record<string, unknown>;
}

export interface EvaluatedStack {
  name: string;
  resources: EvaluatedResource[];
  /** Output key → value; JSON values are given as JSON text, as ROS's GetStack does. */
  outputs: Record<string, string>;
}

/** The resource types the local cloud creates, with the attributes Fn::GetAtt may read of each. */
export const RESOURCE_TYPES = {
  'ALIYUN::OSS::Bucket': ['Name', 'DomainName'],
  'ALIYUN::MNS::Queue': ['QueueName'],
  'ALIYUN::RAM::Role': ['Arn', 'RoleName'],
} as const;
export type ResourceType = keyof typeof RESOURCE_TYPES;

const parameterSchema = z.looseObject({
  Type: z.enum(['String', 'Number', 'Json', 'Boolean', 'CommaDelimitedList']),
  Default: z.unknown().optional(),
  AllowedValues: z.array(z.unknown()).optional(),
  MinValue: z.number().optional(),
  MaxValue: z.number().optional(),
  AllowedPattern: z.string().optional(),
});

const templateSchema = z.looseObject({
  ROSTemplateFormatVersion: z.literal('2015-09-01'),
  Parameters: z.record(z.string(), parameterSchema).default({}),
  Resources: z.record(z.string(), z.looseObject({ Type: z.string(), Properties: z.record(z.string(), z.unknown()).default({}), DependsOn: z.unknown().optional() })),
  Outputs: z.record(z.string(), z.looseObject({ Value: z.unknown() })).default({}),
});

/** Parses the template text and checks its shape; nothing is evaluated yet. */
export function parseRosTemplate(text: string, source: string): z.output<typeof templateSchema> {
  let doc: unknown;
  try {
    doc = text.trimStart().startsWith('{') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new RosTemplateError('InvalidTemplate', `${source}: not valid YAML or JSON: ${(e as Error).message}`);
  }
  const parsed = templateSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RosTemplateError('InvalidTemplate', `${source}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  for (const [id, r] of Object.entries(parsed.data.Resources)) {
    if (!Object.hasOwn(RESOURCE_TYPES, r.Type)) throw new RosTemplateError('LocalCloudUnsupported', `${source}: resource ${id} is ${r.Type}, which the local cloud does not create (it creates ${Object.keys(RESOURCE_TYPES).join(', ')})`);
  }
  return parsed.data;
}

/** A given parameter value, typed and checked as its declaration says. */
function parameterValue(name: string, spec: z.output<typeof parameterSchema>, given: unknown): unknown {
  if (given === undefined) {
    if (spec.Default === undefined) throw new RosTemplateError('StackValidationFailed', `parameter ${name} has no value and no Default`);
    given = spec.Default;
  }
  let value: unknown = given;
  switch (spec.Type) {
    case 'Number': {
      value = typeof given === 'number' ? given : Number(String(given).trim());
      if (String(given).trim() === '' || !Number.isFinite(value)) throw new RosTemplateError('InvalidParameter', `parameter ${name} must be a Number, got ${JSON.stringify(given)}`);
      if (spec.MinValue !== undefined && (value as number) < spec.MinValue) throw new RosTemplateError('InvalidParameter', `parameter ${name} must be at least ${spec.MinValue}, got ${String(value)}`);
      if (spec.MaxValue !== undefined && (value as number) > spec.MaxValue) throw new RosTemplateError('InvalidParameter', `parameter ${name} must be at most ${spec.MaxValue}, got ${String(value)}`);
      break;
    }
    case 'Json':
      if (typeof given === 'string') {
        try {
          value = JSON.parse(given);
        } catch (e) {
          throw new RosTemplateError('InvalidParameter', `parameter ${name} must be JSON: ${(e as Error).message}`);
        }
      }
      break;
    case 'Boolean':
      if (!['true', 'false'].includes(String(given).toLowerCase())) throw new RosTemplateError('InvalidParameter', `parameter ${name} must be true or false, got ${JSON.stringify(given)}`);
      value = String(given).toLowerCase() === 'true';
      break;
    case 'CommaDelimitedList':
      value = Array.isArray(given) ? given.map(String) : String(given).split(',');
      break;
    case 'String':
      value = String(given);
      if (spec.AllowedPattern !== undefined && !new RegExp(`^(?:${spec.AllowedPattern})$`).test(value as string)) throw new RosTemplateError('InvalidParameter', `parameter ${name} does not match ${spec.AllowedPattern}`);
      break;
  }
  if (spec.AllowedValues && !spec.AllowedValues.some((a) => String(a) === String(value))) throw new RosTemplateError('InvalidParameter', `parameter ${name} must be one of ${spec.AllowedValues.join(', ')}`);
  return value;
}

/** The attributes ROS gives a created resource, from its evaluated properties. */
function attributesOf(type: ResourceType, p: Record<string, unknown>, ctx: StackContext): Record<string, string> {
  switch (type) {
    case 'ALIYUN::OSS::Bucket': {
      const name = String(p.BucketName);
      return { Name: name, DomainName: `${name}.oss-${ctx.region}.aliyuncs.com` };
    }
    case 'ALIYUN::MNS::Queue': {
      return { QueueName: String(p.QueueName) };
    }
    case 'ALIYUN::RAM::Role': {
      const name = String(p.RoleName);
      return { RoleName: name, Arn: `acs:ram::${ctx.accountId}:role/${name}` };
    }
  }
}

/** Evaluates the template for one stack: parameters, resources in dependency order, outputs. */
export function evaluateRosTemplate(template: z.output<typeof templateSchema>, ctx: StackContext, source: string): EvaluatedStack {
  for (const name of Object.keys(ctx.parameters)) {
    if (!Object.hasOwn(template.Parameters, name)) throw new RosTemplateError('StackValidationFailed', `${source}: parameter ${name} is given but the template declares no such parameter`);
  }
  const params: Record<string, unknown> = {
    'ALIYUN::Region': ctx.region,
    'ALIYUN::AccountId': ctx.accountId,
    'ALIYUN::StackName': ctx.stackName,
    'ALIYUN::StackId': randomUUID(),
  };
  for (const [name, spec] of Object.entries(template.Parameters)) params[name] = parameterValue(name, spec, ctx.parameters[name]);

  const evaluated = new Map<string, { resource: EvaluatedResource; attributes: Record<string, string> }>();
  const inProgress = new Set<string>();

  function resource(id: string): { resource: EvaluatedResource; attributes: Record<string, string> } {
    const done = evaluated.get(id);
    if (done) return done;
    const spec = template.Resources[id];
    if (!spec) throw new RosTemplateError('InvalidTemplate', `${source}: no resource ${id}`);
    if (inProgress.has(id)) throw new RosTemplateError('InvalidTemplate', `${source}: resource ${id} depends on itself`);
    inProgress.add(id);
    for (const dep of [spec.DependsOn ?? []].flat()) resource(String(dep));
    const type = spec.Type as ResourceType;
    const properties = evaluate(spec.Properties, `Resources.${id}.Properties`) as Record<string, unknown>;
    const entry = { resource: { logicalId: id, type, properties }, attributes: attributesOf(type, properties, ctx) };
    inProgress.delete(id);
    evaluated.set(id, entry);
    return entry;
  }

  function ref(name: string, where: string): unknown {
    if (Object.hasOwn(params, name)) return params[name];
    if (Object.hasOwn(template.Resources, name)) return resource(name).attributes[refAttribute(template.Resources[name]!.Type as ResourceType)];
    throw new RosTemplateError('InvalidTemplate', `${source}: ${where}: Ref to ${name}, which is neither a parameter nor a resource`);
  }

  function getAtt(id: string, attribute: string, where: string): string {
    if (!Object.hasOwn(template.Resources, id)) throw new RosTemplateError('InvalidTemplate', `${source}: ${where}: Fn::GetAtt of ${id}, which is no resource`);
    const { attributes, resource: r } = resource(id);
    if (!Object.hasOwn(attributes, attribute)) throw new RosTemplateError('InvalidTemplate', `${source}: ${where}: ${r.type} has no attribute ${attribute} (it has ${Object.keys(attributes).join(', ')})`);
    return attributes[attribute]!;
  }

  function sub(text: string, extra: Record<string, unknown>, where: string): string {
    return text.replace(/\$\{([^}!][^}]*)\}/g, (_m, name: string) => {
      if (Object.hasOwn(extra, name)) return String(extra[name]);
      const dot = name.indexOf('.');
      if (dot > 0 && !name.startsWith('ALIYUN::')) return getAtt(name.slice(0, dot), name.slice(dot + 1), where);
      return String(ref(name, where));
    });
  }

  function evaluate(value: unknown, where: string): unknown {
    if (Array.isArray(value)) return value.map((v, i) => evaluate(v, `${where}[${i}]`));
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value);
    if (entries.length === 1) {
      const [fn, arg] = entries[0]!;
      if (fn === 'Ref') return ref(String(arg), where);
      if (fn === 'Fn::GetAtt') {
        const [id, attribute] = Array.isArray(arg) ? arg : String(arg).split('.');
        return getAtt(String(id), String(attribute), where);
      }
      if (fn === 'Fn::Sub') {
        const [text, vars] = Array.isArray(arg) ? arg : [arg, {}];
        return sub(String(text), evaluate(vars ?? {}, where) as Record<string, unknown>, where);
      }
      if (fn === 'Fn::Join') {
        const [separator, list] = arg as [string, unknown[]];
        return (evaluate(list, where) as unknown[]).map(String).join(separator);
      }
      if (fn.startsWith('Fn::')) throw new RosTemplateError('LocalCloudUnsupported', `${source}: ${where}: ${fn} is not evaluated by the local cloud (it evaluates Ref, Fn::Sub, Fn::GetAtt, Fn::Join)`);
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, evaluate(v, `${where}.${k}`)]));
  }

  const resources = Object.keys(template.Resources).map((id) => resource(id).resource);
  const outputs = Object.fromEntries(
    Object.entries(template.Outputs).map(([key, o]) => {
      const v = evaluate(o.Value, `Outputs.${key}`);
      return [key, typeof v === 'string' ? v : JSON.stringify(v)];
    }),
  );
  return { name: ctx.stackName, resources, outputs };
}

/** What `Ref` of a resource gives: the name ROS documents as its id. */
function refAttribute(type: ResourceType): string {
  return type === 'ALIYUN::OSS::Bucket' ? 'Name' : type === 'ALIYUN::MNS::Queue' ? 'QueueName' : 'RoleName';
}
