/**
 * The local cloud's RAM and STS in one: roles with their permission policies, STS-like temporary
 * credentials issued for a role (what FC hands a function whose s.yaml names the role), and the
 * `Authorize` every local service asks. Keys that were not issued for a role — the user's own
 * AccessKeys, the tests', the demo's — are the account's own and are never restricted.
 */
import { randomBytes } from 'node:crypto';
import type { AccessDecision, AccessRequest, Authorize } from './access.ts';
import { evaluate } from './evaluate.ts';
import { parsePolicy, type PolicyDocument } from './policy.ts';
import { parseTrustPolicy, trustsService, type TrustPolicy } from './trust.ts';

export interface RoleCredentials {
  /** `STS.` followed by random characters, as STS AccessKey ids look. */
  accessKeyId: string;
  accessKeySecret: string;
  securityToken: string;
}

interface Role {
  name: string;
  policies: PolicyDocument[];
  /** Unset for a role a test made with {@link RamIdentities.setPolicies} alone: any service may assume it. */
  trust?: TrustPolicy;
  credentials?: RoleCredentials;
}

/** `acs:ram::<account>:role/<name>` → `{ account, name }`; a bare role name is taken as it is. */
export function parseRoleArn(role: string): { account?: string; name: string } {
  const m = /^acs:ram::([^:]*):role\/(.+)$/i.exec(role);
  if (m) return { account: m[1]!, name: m[2]! };
  if (role.startsWith('acs:')) throw new Error(`"${role}" is not a RAM role ARN (acs:ram::<AccountID>:role/<name>)`);
  return { name: role };
}

const ALPHANUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function randomText(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += ALPHANUM[b % ALPHANUM.length];
  return out;
}

/** A call RAM refused: who (the role), what and why. */
export interface Denial {
  role: string;
  action: string;
  resources: string[];
  reason: string;
}

/** How many refusals {@link RamIdentities.denials} keeps (the newest). */
const KEPT_DENIALS = 1000;

export class RamIdentities {
  private readonly roles = new Map<string, Role>();
  private readonly roleOfKey = new Map<string, Role>();
  /** The latest refused calls, oldest first: what a test or the CLI shows when a function was refused. */
  readonly denials: Denial[] = [];

  /**
   * @param keys the AccessKey table the local services check signatures against (id → secret);
   *   issued role keys are added to it, so every service that reads it live accepts them.
   */
  constructor(private readonly options: { accountId: string; keys: Record<string, string> }) {}

  /**
   * Sets (or replaces, at run time) the permission policies of a role. Credentials already issued
   * for the role keep working and are judged by the new policies from the next call on.
   */
  setPolicies(role: string, documents: readonly (PolicyDocument | { document: unknown; source: string })[]): void {
    const { name } = this.roleName(role);
    const policies = documents.map((d) => ('statements' in d ? d : parsePolicy(d.document, d.source)));
    const existing = this.roles.get(name);
    if (existing) existing.policies = policies;
    else this.roles.set(name, { name, policies });
  }

  /** Sets the role's trust policy (its AssumeRolePolicyDocument); a role without one is assumable by any service. */
  setTrustPolicy(role: string, document: unknown, source: string): void {
    const { name } = this.roleName(role);
    const trust = parseTrustPolicy(document, source);
    const existing = this.roles.get(name);
    if (existing) existing.trust = trust;
    else this.roles.set(name, { name, policies: [], trust });
  }

  /** The policies a role has now (undefined: no such role). */
  policiesOf(role: string): PolicyDocument[] | undefined {
    return this.roles.get(this.roleName(role).name)?.policies;
  }

  /**
   * The temporary credentials of a role, the same for every function that names it (issued once).
   * @param service the cloud service assuming the role (fc.aliyuncs.com for a function), held to the role's trust policy
   * @throws Error when the role does not exist in the local cloud, does not trust the service, or belongs to another account
   */
  credentialsFor(role: string, service?: string): RoleCredentials {
    const { name } = this.roleName(role);
    const found = this.roles.get(name);
    if (!found) {
      const known = [...this.roles.keys()];
      throw new Error(`RAM role "${name}" does not exist in the local cloud (its roles: ${known.length > 0 ? known.join(', ') : 'none'}); a function assuming it could not be given credentials`);
    }
    if (service !== undefined && found.trust && !trustsService(found.trust, service)) {
      throw new Error(`RAM role "${name}" does not trust ${service} (${found.trust.source}): ${service} cannot assume it`);
    }
    if (!found.credentials) {
      const credentials = { accessKeyId: `STS.${randomText(25)}`, accessKeySecret: randomText(44), securityToken: `CAIS${randomText(120)}` };
      found.credentials = credentials;
      this.options.keys[credentials.accessKeyId] = credentials.accessKeySecret;
      this.roleOfKey.set(credentials.accessKeyId, found);
    }
    return { ...found.credentials };
  }

  /** The role an AccessKey id was issued for, or undefined for the account's own keys. */
  roleOfAccessKey(accessKeyId: string): string | undefined {
    return this.roleOfKey.get(accessKeyId)?.name;
  }

  /** The decision for a signed call: unrestricted for keys not issued for a role, else the role's policies. */
  readonly authorize: Authorize = (request: AccessRequest): AccessDecision => {
    const role = this.roleOfKey.get(request.accessKeyId);
    if (!role) return { allowed: true };
    const decision = evaluate(role.policies, request);
    if (decision.allowed) return decision;
    this.denials.push({ role: role.name, action: request.action, resources: request.resources, reason: decision.reason });
    if (this.denials.length > KEPT_DENIALS) this.denials.splice(0, this.denials.length - KEPT_DENIALS);
    return { allowed: false, reason: `role ${role.name}: ${decision.reason}` };
  };

  private roleName(role: string): { name: string } {
    const { account, name } = parseRoleArn(role);
    if (account !== undefined && account !== this.options.accountId) {
      throw new Error(`RAM role ${role} belongs to account ${account}, not to the local cloud's account ${this.options.accountId}`);
    }
    return { name };
  }
}
