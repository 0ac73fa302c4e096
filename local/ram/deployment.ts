/**
 * The deployment's roles as s.yaml's ros stacks declare them (deploy/cloud.ros.yaml: the functions'
 * role with deploy/ram-policy.json and deploy/ram-trust-policy.json), parsed. The local cloud gives
 * these to its RAM unless told otherwise, and `fleetrun doctor` judges each function's calls by them.
 */
import type { SYaml } from '../fc/s-yaml.ts';
import { parsePolicy, type PolicyDocument } from './policy.ts';

export interface DeployedRole {
  policies: PolicyDocument[];
  trustPolicy: unknown;
  /** Where the role is declared, for messages. */
  source: string;
}

/** Role name → its policies and trust policy, from every `ALIYUN::RAM::Role` of the stacks; a broken document fails here, naming it. */
export function deployedRoles(sYaml: Pick<SYaml, 'stacks'>): Record<string, DeployedRole> {
  const roles: Record<string, DeployedRole> = {};
  for (const stack of sYaml.stacks) {
    for (const r of stack.template?.resources ?? []) {
      if (r.type !== 'ALIYUN::RAM::Role') continue;
      const p = r.properties as { RoleName: string; AssumeRolePolicyDocument?: unknown; Policies?: { PolicyName: string; PolicyDocument: unknown }[] };
      const source = `stack ${stack.template!.name}, ${r.logicalId}`;
      roles[p.RoleName] = {
        policies: (p.Policies ?? []).map((x) => parsePolicy(x.PolicyDocument, `${source} policy ${x.PolicyName}`)),
        trustPolicy: p.AssumeRolePolicyDocument,
        source,
      };
    }
  }
  return roles;
}
