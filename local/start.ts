/**
 * `npm start`: the whole local cloud — ECS Cloud Assistant with the demo fleet, OSS, MNS, the event
 * bus and the functions of s.yaml in their own processes — and one fleet run through it to show the
 * flow end to end: RunCommand, one TaskCompleted event per instance, task-events, the results
 * queue, summarize, and the report in OSS behind a signed link. Then it keeps serving until Ctrl-C.
 */
import { EcsCloudAssistant } from '../shared/cloud-assistant/ecs-cloud-assistant.ts';
import { NO_CHAT } from '../shared/pipeline/finish-run.ts';
import { startRun } from '../shared/pipeline/start-run.ts';
import { runKeys } from '../shared/runs/keys.ts';
import type { RunSummary } from '../shared/runs/summary.ts';
import { createLogger } from '../shared/runtime/logger.ts';
import { AliOssStore } from '../shared/store/ali-oss-store.ts';
import { DEMO_ACCESS_KEY } from './cli/access-keys.ts';
import { closeOnSignals, parseLocalArgs, startFromOptions } from './cli/local-command.ts';
import type { LocalCloud } from './local-cloud.ts';

const DEMO_SCRIPT = `echo "{{ACS::InstanceName}} ({{ACS::InstanceId}})"
uptime
df -h / | tail -1
case "{{ACS::InstanceName}}" in db-*) echo "pretend: replication lag too high"; exit 3 ;; esac`;

async function demoRun(cloud: LocalCloud, regionId: string): Promise<void> {
  const credentials = { accessKeyId: cloud.serviceKey.id, accessKeySecret: cloud.serviceKey.secret };
  const assistant = await EcsCloudAssistant.create({ regionId, credentials, endpoint: cloud.ecs.endpoint, protocol: 'http' });
  const store = new AliOssStore({ bucket: cloud.resources.buckets[0] ?? 'fleetrun-runs', region: `oss-${regionId}`, credentials, endpoint: cloud.oss.endpoint });
  const events = cloud.ecs.events.subscribe((e) => console.log(`  event  ${e.data.instanceId}  ${e.data.invocationStatus.padEnd(8)} exit ${e.data.exitCode}`));
  console.log('\ndemo run "health-check" on env=demo:');
  const manifest = await startRun(
    { command: { name: 'health-check', type: 'RunShellScript', script: DEMO_SCRIPT, timeoutSeconds: 30 }, targets: { tags: { env: 'demo' } }, requestedBy: { kind: 'cli', user: 'npm-start' } },
    { assistant, store, regionId, outputBucket: cloud.resources.buckets.includes('fleetrun-output') ? 'fleetrun-output' : undefined, sealKey: cloud.sealKey, chat: NO_CHAT, logger: createLogger({ sink: () => {} }) },
  );
  for (const s of manifest.skipped) console.log(`  set aside ${s.instanceId}: ${s.reason}`);
  const until = Date.now() + 60_000;
  let summary: RunSummary | undefined;
  while (!summary && Date.now() < until) {
    const body = await store.get(runKeys.summaryJson(manifest.runId));
    if (body) summary = JSON.parse(body.toString()) as RunSummary;
    else await new Promise((r) => setTimeout(r, 250));
  }
  events();
  if (!summary) return console.log('  the summary did not arrive within a minute; see the log lines above');
  const c = summary.counts.byClass;
  console.log(`\n  run ${summary.runId}: ${summary.status} — ${c.success} succeeded, ${c.failed} failed, ${c.skipped} not run`);
  console.log(`  ECS calls: ${Object.entries(cloud.ecs.calls).map(([a, n]) => `${a} ${n}`).join(', ')} (no DescribeInvocations: events, not polling)`);
  console.log(`  report: ${store.signedUrl(runKeys.report(manifest.runId), 24 * 3600)}`);
}

const options = parseLocalArgs(process.argv.slice(2));
if (options === 'help') {
  console.log('npm start -- [fleetrun local options]');
} else {
  const cloud = await startFromOptions({ ...options, quiet: true });
  try {
    if (cloud.fc) await demoRun(cloud, options.regionId);
  } catch (e) {
    console.error(`demo run failed: ${(e as Error).message}`);
  }
  const key = Object.keys(options.accessKeys)[0]!;
  console.log(`
The local cloud keeps running. Point the official SDKs at it with access key ${key}${key === DEMO_ACCESS_KEY.id ? ' (secret in the README)' : ''}:
  ECS  new Ecs(new $OpenApiUtil.Config({ endpoint: '${cloud.ecs.endpoint}', protocol: 'http', regionId: '${options.regionId}', ... }))
  OSS  new OSS({ endpoint: '${cloud.oss.endpoint}', region: 'oss-${options.regionId}', bucket: 'fleetrun-runs', ... })
  MNS  new MNS('1234567890123456', { endpoint: '${cloud.mns.endpoint}', ... })
Reboot an instance (runs NextRebootOnly / EveryReboot tasks):
  curl -X POST http://${cloud.ecs.endpoint}/_fleet/instances/i-bp1demo000000000001/reboot
Ctrl-C stops it.`);
  await closeOnSignals(cloud);
}
