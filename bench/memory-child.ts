/**
 * Child process of the memory benchmark: folds one run's results from the local OSS into its
 * summary with the production code path (finishIfComplete over ali-oss) and prints its peak RSS.
 */
import { finishIfComplete, readManifest } from '../shared/pipeline/finish-run.ts';
import { NO_CHAT } from '../shared/pipeline/finish-run.ts';
import { createLogger } from '../shared/runtime/logger.ts';
import { AliOssStore } from '../shared/store/ali-oss-store.ts';

const [endpoint, runId] = process.argv.slice(2) as [string, string];
const store = new AliOssStore({ bucket: 'fleetrun-runs', region: 'oss-cn-hangzhou', credentials: { accessKeyId: 'mem', accessKeySecret: 'mem-secret-value' }, endpoint });
const manifest = (await readManifest(store, runId))!;
const baseline = process.memoryUsage().rss;
const t = performance.now();
const outcome = await finishIfComplete(manifest, { store, chat: NO_CHAT, logger: createLogger({ sink: () => {} }) });
console.log(JSON.stringify({ state: outcome.state, seconds: (performance.now() - t) / 1000, peakRssBytes: process.resourceUsage().maxRSS * 1024, baselineRssBytes: baseline }));
