/**
 * `fleetrun runs [N] [--since …] [--user …] [--instance …]`: recent runs from the audit record
 * (shared/runs/audit.ts), newest first, with where each stands — what `runs` in chat lists, read
 * with the reader's own access key instead of the access policy.
 */
import { parseArgs } from 'node:util';
import { readManifest } from '../../shared/pipeline/finish-run.ts';
import { RECENT_RUNS_SCAN, recentRuns, type RecentRun } from '../../shared/chatops/recent-runs.ts';
import { stateText, targetsText } from '../../shared/chatops/runs-list-message.ts';
import type { RunAuditRecord } from '../../shared/runs/audit.ts';
import type { ObjectStore } from '../../shared/store/port.ts';
import { UsageError } from './access-keys.ts';
import { readLocalState, runsBucketFrom } from './runs-bucket.ts';

export const RUNS_HELP = `Usage: fleetrun runs [options] [N]

Lists the last N runs (default 10) from the audit record in the runs bucket, newest first: when,
who asked, the command and its targets as asked, and where each stands.

Options:
  --since WHEN     only runs asked for since WHEN: a date or time (2026-11-20, 2026-11-20T10:00Z)
                   or a time back from now (30m, 24h, 7d)
  --user WHO       only runs asked for by WHO: platform:user (slack:U123, webhook:ci-bot),
                   a user id on any platform (U123), or job:<name> for a scheduled job
  --instance ID    only runs that targeted instance ID: by its id, or by tags that resolved to it
                   (read from each such run's manifest, while the bucket still keeps it)
  --scan M         open at most M run records (default ${RECENT_RUNS_SCAN}, fleetrun's own bound, or N if larger)
  --json           print the runs as JSON

Reads a deployment's bucket with FLEETRUN_BUCKET, FLEETRUN_REGION and an access key
(FLEETRUN_ACCESS_KEY_ID / FLEETRUN_ACCESS_KEY_SECRET), or else the local cloud npm start runs.`;

/** `7d`, `24h`, `30m` back from `now`, or a date/time; undefined for anything else. */
export function parseSince(text: string, now: Date): Date | undefined {
  const back = /^(\d{1,6})([mhd])$/.exec(text.trim());
  if (back) return new Date(now.getTime() - Number(back[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[back[2] as 'm' | 'h' | 'd']);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text.trim())) return undefined;
  const at = new Date(text.trim());
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/** Whether `who` is the user asked for: `platform:user` exactly, or a bare id on any platform. */
function byUser(asked: string): (record: RunAuditRecord) => boolean {
  return (record) => {
    const user = record.who.user ?? '';
    return asked.includes(':') ? user === asked : user.slice(user.indexOf(':') + 1) === asked;
  };
}

/** Whether a run targeted `instanceId`: from its record when asked by id, else from its manifest. */
function onInstance(store: ObjectStore, instanceId: string, unknown: { count: number }): (record: RunAuditRecord & { runId: string }) => Promise<boolean> {
  return async (record) => {
    if ('instanceIds' in record.targets) return record.targets.instanceIds.includes(instanceId);
    const manifest = await readManifest(store, record.runId);
    if (!manifest) {
      unknown.count++;
      return false;
    }
    return manifest.targets.includes(instanceId);
  };
}

function table(runs: readonly RecentRun[]): string[] {
  const rows = runs.map((r) => [r.runId, `${r.at.slice(0, 10)} ${r.at.slice(11, 19)}`, r.who.user ?? r.who.kind, r.command, targetsText(r.targets), stateText(r)]);
  const head = ['RUN', 'ASKED (UTC)', 'BY', 'COMMAND', 'TARGETS', 'STATUS'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  return [head, ...rows].map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
}

export async function runsCommand(argv: string[], print: (line: string) => void = console.log, env: NodeJS.ProcessEnv = process.env, now = new Date()): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { since: { type: 'string' }, user: { type: 'string' }, instance: { type: 'string' }, scan: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) return (print(RUNS_HELP), 0);
  if (positionals.length > 1) throw new UsageError(`runs takes one number, got ${positionals.join(' ')}`);
  const limit = positionals[0] === undefined ? 10 : Number(positionals[0]);
  if (!Number.isSafeInteger(limit) || limit < 1) throw new UsageError(`runs wants a number of runs (1 or more), got ${positionals[0]}`);
  const scan = values.scan === undefined ? Math.max(RECENT_RUNS_SCAN, limit) : Number(values.scan);
  if (!Number.isSafeInteger(scan) || scan < 1) throw new UsageError(`--scan wants a number of records (1 or more), got ${values.scan}`);
  const since = values.since === undefined ? undefined : parseSince(values.since, now);
  if (values.since !== undefined && !since) throw new UsageError(`--since wants a date, a time or a span back from now (2026-11-20, 2026-11-20T10:00Z, 24h, 7d), got ${values.since}`);
  if (values.instance !== undefined && !/^i-[a-z0-9]+$/.test(values.instance)) throw new UsageError(`--instance wants an instance id (i-…), got ${values.instance}`);

  const bucket = runsBucketFrom(env, await readLocalState());
  const user = values.user === undefined ? undefined : byUser(values.user);
  const unknown = { count: 0 };
  const instance = values.instance === undefined ? undefined : onInstance(bucket.store, values.instance, unknown);
  const found = await recentRuns(bucket.store, {
    limit,
    scan,
    ...(since ? { since } : {}),
    ...(user || instance ? { include: async (r) => (!user || user(r)) && (!instance || (await instance(r))) } : {}),
  });
  if (values.json) {
    print(JSON.stringify(found.runs, null, 2));
    return 0;
  }
  if (found.runs.length === 0) print(`No runs in ${bucket.where}${since ? ` since ${since.toISOString()}` : ''}${user || instance ? ' that match' : ''}.`);
  else for (const line of table(found.runs)) print(line);
  if (found.stoppedAtScan) print(`(stopped after ${found.scanned} run records, --scan; older runs were not looked at)`);
  if (unknown.count > 0) print(`(${unknown.count} run${unknown.count === 1 ? '' : 's'} targeted by tag could not be checked for ${values.instance}: their manifests are no longer in the bucket)`);
  if (found.runs.length > 0) print(`\nfleetrun report <run> prints where to open a run's report.`);
  return 0;
}
