/**
 * `npm run bench`: the benchmarks that exist so far, each with its baseline in the same run,
 * written to bench/results/latest.json and latest.md. Absolute times are context; ratios are the
 * figures. (Events vs polling, pipeline throughput and memory are still to come: issue 6.)
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchChatAck } from './chat-ack.ts';
import { benchColdStart } from './coldstart.ts';
import { benchFanout } from './fanout.ts';
import { benchMemory } from './memory.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = path.join(ROOT, 'bench', 'results');

const fanout = await benchFanout(10_000, 20, 0.1);
console.log(`fan-out: ${fanout.instances} instances at ${fanout.ratePerSecond} calls/s, ${fanout.throttleRate * 100}% throttled: ${fanout.seconds.toFixed(2)} s vs ideal ${fanout.idealSeconds} s → ${fanout.idealRatio.toFixed(2)}×, ${fanout.duplicates} duplicates`);
const coldStart = await benchColdStart(ROOT, path.join(ROOT, 'dist'), 11);
for (const [fn, m] of Object.entries(coldStart.importMs))
  console.log(`cold start ${fn.padEnd(12)} ${(coldStart.bundleBytes[fn]! / 1024).toFixed(0).padStart(6)} KB  bundled ${m.bundled.toFixed(0)} ms, unbundled ${m.unbundled.toFixed(0)} ms → ${m.ratio.toFixed(2)}×  SDKs: ${coldStart.sdksInBundle[fn]!.join(', ')}`);

const ack = await benchChatAck(path.join(ROOT, 'dist', 'chatops'), 11);
console.log(`chat cold acknowledgement: median ${ack.medianMs.toFixed(0)} ms from process start (Slack allows 3000 ms)`);

const memory = await benchMemory(1000, 10_000);
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;
console.log(`memory: summarize folding 1,000 results peaks at ${mb(memory.small.peakRssBytes)}, 10,000 at ${mb(memory.large.peakRssBytes)} → ${memory.peakRssGrowth.toFixed(2)}×`);

const latest = {
  machine: { node: process.version, cpus: (await import('node:os')).cpus().length },
  date: new Date().toISOString(),
  fanout: { idealRatio: fanout.idealRatio, duplicates: fanout.duplicates, inputs: { instances: fanout.instances, ratePerSecond: fanout.ratePerSecond, throttleRate: fanout.throttleRate }, seconds: fanout.seconds, idealSeconds: fanout.idealSeconds, calls: fanout.calls, throttled: fanout.throttled },
  memory: { peakRssGrowth: memory.peakRssGrowth, inputs: { instances: [memory.small.instances, memory.large.instances], outputBytes: 24 * 1024 }, peakRssBytes: { small: memory.small.peakRssBytes, large: memory.large.peakRssBytes }, foldSeconds: { small: memory.small.seconds, large: memory.large.seconds } },
  coldStart: { importRatio: coldStart.importRatio, unusedSdkBundles: coldStart.unusedSdkBundles, bundleBytes: coldStart.bundleBytes, importMs: coldStart.importMs, sdksInBundle: coldStart.sdksInBundle, inputs: { runs: coldStart.runs }, chatAckMs: ack.medianMs, chatAckSamplesMs: ack.samplesMs },
};
await mkdir(RESULTS, { recursive: true });
await writeFile(path.join(RESULTS, 'latest.json'), `${JSON.stringify(latest, null, 2)}\n`);
const rows = Object.entries(coldStart.importMs).map(([fn, m]) => `| ${fn} | ${(coldStart.bundleBytes[fn]! / 1024).toFixed(0)} KB | ${m.bundled.toFixed(0)} ms | ${m.unbundled.toFixed(0)} ms | ${m.ratio.toFixed(2)}× | ${coldStart.sdksInBundle[fn]!.join(', ')} |`);
await writeFile(
  path.join(RESULTS, 'latest.md'),
  [
    `# Benchmarks (${latest.date}, Node ${process.version}, ${latest.machine.cpus} cores)`,
    '',
    `Fan-out: ${fanout.instances} instances, API limit ${fanout.ratePerSecond} calls/s, ${fanout.throttleRate * 100}% of calls throttled: ${fanout.seconds.toFixed(2)} s against the ideal ${fanout.idealSeconds} s (${fanout.idealRatio.toFixed(2)}×), ${fanout.duplicates} duplicate executions.`,
    '',
    '| function | bundle | import bundled | import unbundled | ratio | SDKs in the bundle |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
    ...rows,
    '',
    `Memory: summarize folding a run's results (24 KB outputs) peaks at ${mb(memory.small.peakRssBytes)} for 1,000 instances and ${mb(memory.large.peakRssBytes)} for 10,000 (${memory.peakRssGrowth.toFixed(2)}×; folding took ${memory.small.seconds.toFixed(1)} s and ${memory.large.seconds.toFixed(1)} s).`,
    '',
    `Chat function's cold acknowledgement (fresh process, bundle loaded, one signed request answered): median ${ack.medianMs.toFixed(0)} ms of ${ack.samplesMs.length}, against Slack's 3,000 ms.`,
    '',
  ].join('\n'),
);
console.log(`written: ${path.relative(ROOT, path.join(RESULTS, 'latest.json'))}, latest.md`);
