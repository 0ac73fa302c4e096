/**
 * `fleetrun doctor`, third check: every call each function makes (shared/config/required-actions.ts)
 * is allowed by its role's permission policy (the role s.yaml's ros stack declares, with
 * deploy/ram-policy.json; or --policy), decided by the
 * local cloud's RAM evaluator (local/ram/evaluate.ts), with the resources s.yaml gives the function.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isFunctionName } from '../../shared/config/function-env-check.ts';
import { REQUIRED_ACTIONS, resourcesFor } from '../../shared/config/required-actions.ts';
import type { SYaml } from '../fc/s-yaml.ts';
import { deployedRoles } from '../ram/deployment.ts';
import { evaluate } from '../ram/evaluate.ts';
import { parsePolicy, type PolicyDocument } from '../ram/policy.ts';
import { parseTrustPolicy, trustsService } from '../ram/trust.ts';
import type { Finding } from './doctor-report.ts';

export interface PolicyOptions {
  /** Policy files given on the command line: every role is judged by these instead of the deployment's. */
  policyFiles: readonly string[];
}

function loadPolicies(files: readonly string[], base: string): PolicyDocument[] {
  return files.map((file) => {
    const full = path.resolve(base, file);
    let document: unknown;
    try {
      document = JSON.parse(readFileSync(full, 'utf8'));
    } catch (e) {
      throw new Error(`cannot read the policy ${file}: ${(e as Error).message}`);
    }
    return parsePolicy(document, file);
  });
}

export function checkPolicy(sYaml: SYaml, options: PolicyOptions): Finding[] {
  const findings: Finding[] = [];
  /** action + resources → the functions that need it and the reason it is refused. */
  const refused = new Map<string, { functions: string[]; reason: string; source: string; calledBy: string }>();
  let checked = 0;
  const loaded = new Map<string, PolicyDocument[] | undefined>();
  const trustedByFc = new Map<string, boolean>();
  let declared: ReturnType<typeof deployedRoles>;
  try {
    declared = deployedRoles(sYaml);
  } catch (e) {
    declared = {};
    findings.push({ check: 'policy', level: 'problem', message: (e as Error).message });
  }
  for (const f of sYaml.functions) {
    const name = f.props.functionName;
    if (!isFunctionName(name)) continue;
    const roleName = /:role\/(.+)$/.exec(f.props.role ?? '')?.[1];
    if (!roleName) {
      findings.push({ check: 'policy', level: 'problem', message: `${name} has no role in s.yaml (props.role): it would call the cloud with no credentials. Give it acs:ram::\${config('AccountID')}:role/fleetrun-fc-role` });
      continue;
    }
    const role = declared[roleName];
    if (options.policyFiles.length === 0 && !role) {
      findings.push({ check: 'policy', level: 'problem', message: `${name}'s role ${roleName} is not declared by s.yaml's ros stacks (declared: ${Object.keys(declared).join(', ') || 'none'}): declare it, or pass its policy with --policy FILE` });
      continue;
    }
    if (role && !trustedByFc.has(roleName)) {
      trustedByFc.set(roleName, trusts(role.trustPolicy, role.source));
      if (!trustedByFc.get(roleName)) findings.push({ check: 'policy', level: 'problem', message: `the role ${roleName} (${role.source}) does not let fc.aliyuncs.com assume it: FC could give ${name} and the other functions no credentials. Its trust policy (deploy/ram-trust-policy.json) needs an Allow of sts:AssumeRole for the Service fc.aliyuncs.com` });
    }
    const files = options.policyFiles.length > 0 ? options.policyFiles : [role!.source];
    // Read once per set of files: a broken policy is one finding, not one per function.
    const key = files.join('\n');
    if (!loaded.has(key)) {
      try {
        loaded.set(key, options.policyFiles.length > 0 ? loadPolicies(files, process.cwd()) : role!.policies);
      } catch (e) {
        loaded.set(key, undefined);
        findings.push({ check: 'policy', level: 'problem', message: (e as Error).message });
      }
    }
    const policies = loaded.get(key);
    if (!policies) continue;
    const env = f.props.environmentVariables;
    for (const entry of REQUIRED_ACTIONS) {
      if (!entry.functions.includes(name)) continue;
      const resources = resourcesFor(entry, env);
      if (!resources) continue;
      checked++;
      // Every call is HTTPS (shared/config/endpoints.ts), so acs:SecureTransport is true.
      const decision = evaluate(policies, { accessKeyId: `doctor:${roleName}`, action: entry.action, resources, context: { 'acs:SecureTransport': 'true', ...entry.context } });
      if (decision.allowed) continue;
      const key = `${entry.action} on ${resources.join(', ')}`;
      const seen = refused.get(key) ?? refused.set(key, { functions: [], reason: decision.reason, source: files.join(', '), calledBy: entry.calledBy }).get(key)!;
      seen.functions.push(name);
    }
  }
  for (const [call, r] of refused) {
    findings.push({ check: 'policy', level: 'problem', message: `${r.functions.join(', ')} need${r.functions.length === 1 ? 's' : ''} ${call} (${r.calledBy}), but ${r.source} refuses it (${r.reason}): add the action to the role's policy` });
  }
  if (refused.size === 0 && !findings.some((f) => f.level === 'problem')) findings.push({ check: 'policy', level: 'ok', message: `the role's policy allows all ${checked} calls the functions make (shared/config/required-actions.ts)` });
  return findings;
}

/** Whether a trust policy lets FC assume the role; a document that is no trust policy does not. */
function trusts(document: unknown, source: string): boolean {
  try {
    return trustsService(parseTrustPolicy(document, source), 'fc.aliyuncs.com');
  } catch {
    return false;
  }
}
