/**
 * `fleetrun report <run>`: where to open a run's report. chatops' own signed link — the one chat
 * replies carry — when chatops' public URL and the seal key are known (FLEETRUN_PUBLIC_URL,
 * FLEETRUN_SEAL_KEY); otherwise the report's objects in the bucket and a presigned URL of the
 * report, which opens for as long as the reader's access key is valid and the link has not expired.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_REPORT_LINK_DAYS } from '../../shared/config/env.ts';
import { runKeys, RUN_ID } from '../../shared/runs/keys.ts';
import { reportLinkKey, signReportLink } from '../../shared/runs/report-link.ts';
import type { ObjectStore } from '../../shared/store/port.ts';
import { UsageError } from './access-keys.ts';
import { readLocalState, runsBucketFrom } from './runs-bucket.ts';

export const REPORT_HELP = `Usage: fleetrun report [options] <run id>

Prints where to open a run's report: chatops' signed link when FLEETRUN_PUBLIC_URL and
FLEETRUN_SEAL_KEY are set (the link chat replies carry), else the report's objects in the runs
bucket and a presigned URL of report.html.

Options:
  --days N     how long the link stays valid, 1 to 365 days (default ${DEFAULT_REPORT_LINK_DAYS}, as replies' links)

Reads the bucket as fleetrun runs does (fleetrun runs --help).`;

async function exists(store: ObjectStore, key: string): Promise<boolean> {
  for await (const o of store.list(key)) if (o.key === key) return true;
  return false;
}

export async function reportCommand(argv: string[], print: (line: string) => void = console.log, env: NodeJS.ProcessEnv = process.env, now = new Date()): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { days: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) return (print(REPORT_HELP), 0);
  const runId = positionals[0]?.toLowerCase();
  if (!runId || positionals.length > 1) throw new UsageError('give one run id, e.g. fleetrun report r-20261123t101500-1a2b3c');
  if (!RUN_ID.test(runId)) throw new UsageError(`"${positionals[0]}" is not a run id (they look like r-20261123t101500-1a2b3c)`);
  const days = values.days === undefined ? DEFAULT_REPORT_LINK_DAYS : Number(values.days);
  if (!Number.isInteger(days) || days < 1 || days > 365) throw new UsageError(`--days wants 1 to 365, got ${values.days}`);

  const bucket = runsBucketFrom(env, await readLocalState());
  if (!(await exists(bucket.store, runKeys.report(runId)))) {
    const running = await exists(bucket.store, runKeys.manifest(runId));
    print(running ? `${runId} has no report yet: it has not finished (fleetrun chat "status ${runId}" shows how far it is).` : `No report of ${runId} in ${bucket.where}: no such run, or its objects have expired.`);
    return 1;
  }
  const seconds = days * 86_400;
  if (bucket.publicUrl && bucket.sealKey) {
    print(`Report: ${signReportLink(bucket.publicUrl, runId, Math.floor(now.getTime() / 1000) + seconds, reportLinkKey(bucket.sealKey))}`);
    print(`(chatops' link, valid ${days} day${days === 1 ? '' : 's'})`);
    return 0;
  }
  print(`Report objects in ${bucket.where}:`);
  for (const key of [runKeys.report(runId), runKeys.summaryMarkdown(runId), runKeys.summaryJson(runId)]) print(`  oss://${bucket.store.bucket}/${key}`);
  print(`Report: ${bucket.store.signedUrl(runKeys.report(runId), seconds)}`);
  print(`(a presigned URL, valid ${days} day${days === 1 ? '' : 's'} or until the access key it was signed with is no longer valid; set FLEETRUN_PUBLIC_URL and FLEETRUN_SEAL_KEY for chatops' link)`);
  return 0;
}
