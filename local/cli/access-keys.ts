/** Access keys the local cloud accepts: from `--access-key ID:SECRET`, the environment, or the demo key. */
export const DEMO_ACCESS_KEY = { id: 'fleetrun-demo', secret: 'demo-sk-4f9a2c7e1b' } as const;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function parseAccessKeys(values: string[], env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const keys: Record<string, string> = {};
  for (const value of values) {
    const at = value.indexOf(':');
    if (at <= 0 || at === value.length - 1) throw new UsageError(`--access-key wants ID:SECRET (got a value without both parts)`);
    keys[value.slice(0, at)] = value.slice(at + 1);
  }
  if (env.FLEETRUN_ACCESS_KEY_ID && env.FLEETRUN_ACCESS_KEY_SECRET) keys[env.FLEETRUN_ACCESS_KEY_ID] = env.FLEETRUN_ACCESS_KEY_SECRET;
  if (Object.keys(keys).length === 0) keys[DEMO_ACCESS_KEY.id] = DEMO_ACCESS_KEY.secret;
  return keys;
}
