/**
 * What the deployment's stacks declare, sorted by the local service that creates it: buckets for
 * OSS, queues for MNS, roles for RAM, service-linked roles for the services that use them. The
 * properties are checked with the local cloud's own schemas, so a property the local cloud would
 * silently ignore is refused instead.
 */
import { z } from 'zod';
import type { EvaluatedStack } from './template.ts';
import { readTerraformStack } from './terraform-stack.ts';
import { RosTemplateError } from './template.ts';

const lifecycleRuleSchema = z.strictObject({
  ID: z.string().optional(),
  Prefix: z.string().default(''),
  Status: z.enum(['Enabled', 'Disabled']),
  Expiration: z.strictObject({ Days: z.coerce.number().int().positive().optional(), CreatedBeforeDate: z.string().optional() }).optional(),
  AbortMultipartUpload: z.strictObject({ Days: z.coerce.number().int().positive().optional(), CreatedBeforeDate: z.string().optional() }).optional(),
});
export type DeclaredLifecycleRule = z.output<typeof lifecycleRuleSchema>;

const bucketSchema = z.strictObject({
  BucketName: z.string(),
  AccessControl: z.enum(['private', 'public-read', 'public-read-write']).default('private'),
  LifecycleConfiguration: z.strictObject({ Rule: z.array(lifecycleRuleSchema) }).optional(),
  DeletionForce: z.boolean().optional(),
});

const queueSchema = z.strictObject({
  QueueName: z.string(),
  DelaySeconds: z.coerce.number().int().optional(),
  MaximumMessageSize: z.coerce.number().int().optional(),
  MessageRetentionPeriod: z.coerce.number().int().optional(),
  VisibilityTimeout: z.coerce.number().int().optional(),
  PollingWaitSeconds: z.coerce.number().int().optional(),
  LoggingEnabled: z.boolean().optional(),
});

const roleSchema = z.strictObject({
  RoleName: z.string(),
  Description: z.string().optional(),
  AssumeRolePolicyDocument: z.record(z.string(), z.unknown()),
  Policies: z.array(z.strictObject({ PolicyName: z.string(), PolicyDocument: z.record(z.string(), z.unknown()) })).default([]),
  MaxSessionDuration: z.coerce.number().int().optional(),
});

export interface DeclaredBucket {
  name: string;
  acl: 'private' | 'public-read' | 'public-read-write';
  lifecycle: DeclaredLifecycleRule[];
}
export interface DeclaredQueue {
  name: string;
  attributes: Omit<z.output<typeof queueSchema>, 'QueueName'>;
}
export interface DeclaredRole {
  name: string;
  trustPolicy: Record<string, unknown>;
  policies: { name: string; document: Record<string, unknown> }[];
}

export interface DeclaredResources {
  buckets: DeclaredBucket[];
  queues: DeclaredQueue[];
  roles: DeclaredRole[];
  /** Service names, e.g. archiving.ecs.aliyuncs.com. */
  serviceLinkedRoles: string[];
}

function checked<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RosTemplateError('InvalidTemplate', `${where}.${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}

/** Sorts the resources of evaluated ROS templates and Terraform folders; two stacks declaring the same name is an error, as in the cloud. */
export async function declaredResources(stacks: readonly { template?: EvaluatedStack; terraformDir?: string }[]): Promise<DeclaredResources> {
  const out: DeclaredResources = { buckets: [], queues: [], roles: [], serviceLinkedRoles: [] };
  const seen = new Set<string>();
  const once = (kind: string, name: string, where: string): void => {
    if (seen.has(`${kind}:${name}`)) throw new RosTemplateError('StackValidationFailed', `${where}: ${kind} ${name} is declared twice`);
    seen.add(`${kind}:${name}`);
  };
  for (const stack of stacks) {
    for (const r of stack.template?.resources ?? []) {
      const where = `${stack.template!.name}: ${r.logicalId}`;
      if (r.type === 'ALIYUN::OSS::Bucket') {
        const p = checked(bucketSchema, r.properties, where);
        once('bucket', p.BucketName, where);
        out.buckets.push({ name: p.BucketName, acl: p.AccessControl, lifecycle: p.LifecycleConfiguration?.Rule ?? [] });
      } else if (r.type === 'ALIYUN::MNS::Queue') {
        const { QueueName, ...attributes } = checked(queueSchema, r.properties, where);
        once('queue', QueueName, where);
        out.queues.push({ name: QueueName, attributes });
      } else {
        const p = checked(roleSchema, r.properties, where);
        once('role', p.RoleName, where);
        out.roles.push({ name: p.RoleName, trustPolicy: p.AssumeRolePolicyDocument, policies: p.Policies.map((x) => ({ name: x.PolicyName, document: x.PolicyDocument })) });
      }
    }
    if (stack.terraformDir) {
      for (const service of (await readTerraformStack(stack.terraformDir)).serviceLinkedRoles) {
        once('service-linked role', service, stack.terraformDir);
        out.serviceLinkedRoles.push(service);
      }
    }
  }
  return out;
}
