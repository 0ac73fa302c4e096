/**
 * RAM policies have no variable for the deployment's region, so deploy/ram-policy.json writes it
 * literally in its ECS, MNS and FC ARNs (docs/ram.md "The region is written literally"): it must be
 * s.yaml's `vars.region`, or every such call of the functions is refused after a deploy.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');

describe('deploy/ram-policy.json and s.yaml', () => {
  it('name the same region in every regional ARN, and scope every ECS action but DescribeInvocations to it', () => {
    const region = (parse(read('s.yaml')) as { vars: { region: string } }).vars.region;
    const policy = JSON.parse(read('deploy/ram-policy.json')) as { Statement: { Action: string[]; Resource: string | string[] }[] };
    const regional = policy.Statement.flatMap((s) => [s.Resource].flat()).filter((r) => /^acs:(ecs|mns|fc):/.test(r));
    expect(regional.length).toBeGreaterThan(0);
    for (const arn of regional) expect(arn.split(':')[2], arn).toBe(region);
    const ecsOnEverything = policy.Statement.filter((s) => [s.Resource].flat().includes('*')).flatMap((s) => s.Action.filter((a) => a.startsWith('ecs:')));
    expect(ecsOnEverything).toEqual(['ecs:DescribeInvocations']);
  });
});
