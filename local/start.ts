/**
 * `npm start`: the local cloud with the demo fleet, and one fleet run through fleetrun's library
 * to show the flow end to end — targets by tag, fan-out over the official ECS SDK, one
 * TaskCompleted event per instance, results read back — then it keeps serving until Ctrl-C.
 */
import { EcsCloudAssistant } from '../shared/cloud-assistant/ecs-cloud-assistant.ts';
import { dispatch } from '../shared/cloud-assistant/dispatch.ts';
import { allInvocationResults } from '../shared/cloud-assistant/results.ts';
import { resolveTargets } from '../shared/cloud-assistant/targets.ts';
import { DEMO_ACCESS_KEY } from './cli/access-keys.ts';
import { closeOnSignals, parseLocalArgs, startFromOptions } from './cli/local-command.ts';
import type { LocalCloud } from './local-cloud.ts';

async function demoRun(cloud: LocalCloud, regionId: string, key: { id: string; secret: string }): Promise<void> {
  const ca = await EcsCloudAssistant.create({
    regionId,
    endpoint: cloud.ecs.endpoint,
    protocol: 'http',
    credentials: { accessKeyId: key.id, accessKeySecret: key.secret },
  });
  const targets = await resolveTargets(ca, { tags: { env: 'demo' } });
  console.log(`\ndemo run: "uptime" on env=demo → ${targets.runnable.length} runnable, ${targets.skipped.length} set aside`);
  for (const s of targets.skipped) console.log(`  skipped ${s.instanceId}: ${s.reason}`);
  const finished = new Set<string>();
  const allDone = new Promise<void>((resolve) => {
    const off = cloud.ecs.events.subscribe((e) => {
      finished.add(e.data.instanceId);
      console.log(`  event ${e.type} ${e.data.instanceId} ${e.data.invocationStatus} exit=${e.data.exitCode}`);
      if (finished.size >= targets.runnable.length) {
        off();
        resolve();
      }
    });
  });
  const result = await dispatch(ca, {
    runId: `demo-${Date.now()}`,
    command: {
      kind: 'run',
      request: {
        RegionId: regionId,
        Type: 'RunShellScript',
        Name: 'demo-uptime',
        CommandContent: 'echo "{{ACS::InstanceName}} ({{ACS::InstanceId}})"; uptime',
        EnableParameter: true,
        Timeout: 30,
      },
    },
    instanceIds: targets.runnable,
  });
  await allDone;
  for (const batch of result.batches) {
    if (!batch.invokeId) continue;
    for (const r of await allInvocationResults(ca, regionId, batch.invokeId)) {
      console.log(`  ${r.instanceId} ${r.status.padEnd(8)} ${r.output.trim().replace(/\n/g, ' | ')}`);
    }
  }
}

const options = parseLocalArgs(process.argv.slice(2));
if (options === 'help') {
  console.log('npm start -- [fleetrun local options]');
} else {
  const cloud = await startFromOptions({ ...options, quiet: true });
  const key = Object.entries(options.accessKeys)[0]!;
  try {
    await demoRun(cloud, options.regionId, { id: key[0], secret: key[1] });
  } catch (e) {
    console.error(`demo run failed: ${(e as Error).message}`);
  }
  console.log(`
The local cloud keeps running. Point the official SDK at it:
  new Ecs(new $OpenApiUtil.Config({ endpoint: '${cloud.ecs.endpoint}', protocol: 'http', regionId: '${options.regionId}',
                                    accessKeyId: '${key[0]}', accessKeySecret: <its secret${key[0] === DEMO_ACCESS_KEY.id ? ', see README' : ''}> }))
Reboot an instance (runs NextRebootOnly / EveryReboot tasks):
  curl -X POST http://${cloud.ecs.endpoint}/_fleet/instances/i-bp1demo000000000001/reboot
Ctrl-C stops it.`);
  await closeOnSignals(cloud);
}
