/**
 * The deployment's roles and their permission policies, as deploy/README.md describes them: the
 * functions' role `fleetrun-fc-role` (s.yaml's `role`) has deploy/ram-policy.json. The local cloud
 * gives these to its RAM unless told otherwise.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parsePolicy, type PolicyDocument } from './policy.ts';

/** Role name → policy files (relative to the project root). */
export const DEPLOYED_ROLE_POLICIES: Readonly<Record<string, readonly string[]>> = {
  'fleetrun-fc-role': ['deploy/ram-policy.json'],
};

/** Reads and parses the policies of {@link DEPLOYED_ROLE_POLICIES}; a broken file fails here, naming it. */
export function deployedRolePolicies(projectRoot: string): Record<string, PolicyDocument[]> {
  return Object.fromEntries(
    Object.entries(DEPLOYED_ROLE_POLICIES).map(([role, files]) => [
      role,
      files.map((file) => parsePolicy(JSON.parse(readFileSync(path.join(projectRoot, file), 'utf8')) as unknown, file)),
    ]),
  );
}
