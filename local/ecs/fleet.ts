/**
 * The fleet file: the instances the local Cloud Assistant pretends to manage.
 *
 * ```yaml
 * instances:
 *   - id: i-bp1demo000000000001
 *     name: web-1
 *     status: Running            # Running (default) | Stopped
 *     tags: { env: demo, role: web }
 *     agent: { online: true, version: 2.2.3.600 }
 *     users: [root, deploy]      # accounts that exist for Username (default: root)
 * ```
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const INSTANCE_ID = /^i-[a-z0-9]{4,40}$/;

export const fleetInstanceSchema = z.object({
  id: z.string().regex(INSTANCE_ID, 'an instance id looks like i-bp1demo000000000001'),
  name: z.string().optional(),
  status: z.enum(['Running', 'Stopped']).default('Running'),
  tags: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
  agent: z
    .object({ online: z.boolean().default(true), version: z.string().default('2.2.3.600') })
    .default({ online: true, version: '2.2.3.600' }),
  osType: z.enum(['linux', 'windows']).default('linux'),
  users: z.array(z.string()).default(['root']),
});
export type FleetInstance = z.output<typeof fleetInstanceSchema> & { name: string };

export const fleetFileSchema = z
  .object({ instances: z.array(fleetInstanceSchema) })
  .superRefine((f, ctx) => {
    const seen = new Set<string>();
    f.instances.forEach((i, n) => {
      if (seen.has(i.id)) ctx.addIssue({ code: 'custom', message: `instance id ${i.id} appears twice`, path: ['instances', n, 'id'] });
      seen.add(i.id);
    });
  });

export class FleetFileError extends Error {
  override readonly name = 'FleetFileError';
}

/** Parses a fleet file's text; a problem names the file, the instance and the field. */
export function parseFleet(text: string, source = 'fleet file'): FleetInstance[] {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (e) {
    throw new FleetFileError(`${source}: not valid YAML: ${(e as Error).message}`, { cause: e });
  }
  const result = fleetFileSchema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new FleetFileError(`${source}: ${issue.path.join('.') || '(root)'}: ${issue.message}`, { cause: result.error });
  }
  return result.data.instances.map((i) => ({ ...i, name: i.name ?? i.id }));
}

export async function loadFleet(path: string): Promise<FleetInstance[]> {
  return parseFleet(await readFile(path, 'utf8'), path);
}

/** A fleet of `count` Running instances, for benchmarks and scale tests. */
export function generatedFleet(count: number, tags: Record<string, string> = { env: 'bench' }): FleetInstance[] {
  return Array.from({ length: count }, (_, n) => {
    const id = `i-gen${String(n).padStart(17, '0')}`;
    return fleetInstanceSchema.parse({ id, name: `gen-${n}`, tags: { ...tags, shard: String(n % 10) } });
  }).map((i) => ({ ...i, name: i.name ?? i.id }));
}
