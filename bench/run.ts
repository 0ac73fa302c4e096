/**
 * `npm run bench`: every benchmark, each with its baseline in the same run, written to
 * bench/results/latest.json (keys stable from run to run), latest.md and latest.svg. Absolute times
 * are context; ratios are the figures.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderChart } from './chart.ts';
import { benchChatAck } from './chat-ack.ts';
import { benchCost, formatCostMarkdown } from './cost.ts';
import { benchColdStart } from './coldstart.ts';
import { benchEventsVsPolling, sweepDelays } from './events-vs-polling.ts';
import { benchFanout } from './fanout.ts';
import { benchMemory } from './memory.ts';
import { benchOutputGroups, describeOutputGroups } from './output-groups.ts';
import { benchPipeline } from './pipeline.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = path.join(ROOT, 'bench', 'results');
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;
const ms = (v: number) => `${v.toFixed(0)} ms`;

/**
 * Each benchmark starts with the disk idle: the one before may leave hundreds of megabytes to write
 * back (the memory benchmark stores 240 MB of outputs), and the kernel would charge that to the next.
 */
function settleDisk(): void {
  execFileSync('sync');
}

const fanout = await benchFanout(10_000, 20, 0.1);
console.log(`fan-out: ${fanout.instances} instances at ${fanout.ratePerSecond} calls/s, ${fanout.throttleRate * 100}% throttled: ${fanout.seconds.toFixed(2)} s vs ideal ${fanout.idealSeconds} s → ${fanout.idealRatio.toFixed(2)}×, ${fanout.duplicates} duplicates`);

// Builds dist/ (the pipeline below runs the bundles).
settleDisk();
const coldStart = await benchColdStart(ROOT, path.join(ROOT, 'dist'), 11);
for (const [fn, m] of Object.entries(coldStart.importMs))
  console.log(`cold start ${fn.padEnd(12)} ${(coldStart.bundleBytes[fn]! / 1024).toFixed(0).padStart(6)} KB  bundled ${m.bundled.toFixed(0)} ms, unbundled ${m.unbundled.toFixed(0)} ms → ${m.ratio.toFixed(2)}×  SDKs: ${coldStart.sdksInBundle[fn]!.join(', ')}`);

settleDisk();
const ack = await benchChatAck(path.join(ROOT, 'dist', 'chatops'), 11);
console.log(`chat cold acknowledgement: median ${ack.medianMs.toFixed(0)} ms from process start (Slack allows 3000 ms)`);

settleDisk();
const memory = await benchMemory(1000, 10_000);
console.log(`memory: summarize folding 1,000 results peaks at ${mb(memory.small.peakRssBytes)}, 10,000 at ${mb(memory.large.peakRssBytes)} → ${memory.peakRssGrowth.toFixed(2)}×`);

// CPU and heap only: nothing to let the disk settle for.
const outputGroups = benchOutputGroups(10_000);
console.log(describeOutputGroups(outputGroups));

settleDisk();
const pipeline = await benchPipeline(10_000);
console.log(`pipeline: 10,000 TaskCompleted events → summary in ${pipeline.seconds.toFixed(1)} s (${pipeline.eventsPerSecond.toFixed(0)}/s); CPU per event: task-events ${pipeline.usPerEvent.taskEvents.toFixed(0)} µs, summarize ${pipeline.usPerEvent.summarize.toFixed(0)} µs, local cloud ${pipeline.usPerEvent.localCloud.toFixed(0)} µs`);

const evpInputs = { instances: 200, minSeconds: 5, maxSeconds: 300, failRate: 0.1, timeScale: 1, pollSeconds: 5, seed: 7 };
console.log(`events vs polling: ${evpInputs.instances} instances, ${evpInputs.minSeconds}–${evpInputs.maxSeconds} s, time scale ${evpInputs.timeScale} (about ${Math.ceil(evpInputs.maxSeconds / evpInputs.timeScale / 60)} min)…`);
settleDisk();
const evp = await benchEventsVsPolling(evpInputs);
for (const [name, m] of [['(a) events, OSS delivery', evp.oss], ['(b) events, fetched', evp.fetch], ['(c) polling', evp.poll]] as const)
  console.log(`  ${name.padEnd(26)} ${String(m.readCalls).padStart(4)} read calls  finish→OSS p50 ${ms(m.resultLatency.p50Ms)} p95 ${ms(m.resultLatency.p95Ms)} max ${ms(m.resultLatency.maxMs)}  last finish→summary ${ms(m.summaryLatencyMs)}`);
console.log(`  p50 latency (c)÷(a) ${evp.p50LatencyRatio.toFixed(1)}×, (c)÷(b) ${evp.fetchModeP50LatencyRatio.toFixed(1)}×; read calls (c)÷(b) ${evp.fetchModeReadCallsRatio.toFixed(2)}×`);

// The cloud's own delays are undocumented: (a) against (c) again with them assumed, on a shorter fleet (5–30 s scripts, real time, the poller's 5 s unscaled).
const sweepInputs = { instances: 80, minSeconds: 5, maxSeconds: 30, failRate: 0.1, timeScale: 1, pollSeconds: 5, seed: 7 };
const SWEEP_DELAYS_MS = [0, 500, 1000, 2000, 5000];
console.log(`events vs polling at assumed delays ${SWEEP_DELAYS_MS.join(', ')} ms: ${sweepInputs.instances} instances, ${sweepInputs.minSeconds}–${sweepInputs.maxSeconds} s…`);
settleDisk();
const sweep = await sweepDelays(sweepInputs, SWEEP_DELAYS_MS);
for (const p of sweep.points)
  console.log(`  ${String(p.delayMs).padStart(5)} ms (${p.distribution.padEnd(20)}) events p50 ${ms(p.eventLatency.p50Ms)} vs polling ${ms(p.pollLatency.p50Ms)} → ${p.p50LatencyRatio.toFixed(2)}×; read calls ${p.eventReadCalls} vs ${p.pollReadCalls}`);
const breakEven = sweep.breakEvenDelayMs === null ? `beyond ${Math.max(...SWEEP_DELAYS_MS)} ms` : `${sweep.breakEvenDelayMs.toFixed(0)} ms`;
console.log(`  break-even (events' p50 = a 5 s poller's): ${breakEven}`);

// What a 10,000-instance run of 5-minute scripts costs on each path (docs/cost-model.md); it prints its own tables.
settleDisk();
const cost = await benchCost();
console.log(`cost: events ${cost.eventsCny10k.toFixed(4)} CNY, polling (${cost.inputs.pollerLayout}) ${cost.pollingCny10k.toFixed(4)} CNY → polling ÷ events ${cost.ratioVsPolling.toFixed(2)}× (${cost.pollingOtherLayout.layout}: ${cost.pollingOtherLayout.cny10k.toFixed(4)} CNY, ${(cost.pollingOtherLayout.cny10k / cost.eventsCny10k).toFixed(1)}×)`);

/** task-events and summarize invocations for 10,000 results (the pipeline's run is 10,000 events). */
const invocationsPer10k = ((pipeline.taskEventsInvocations + pipeline.summarizeInvocations) * 10_000) / pipeline.events;

const latest = {
  machine: { node: process.version, cpus: os.cpus().length },
  date: new Date().toISOString(),
  eventsVsPolling: {
    eventReadCalls: evp.eventReadCalls,
    /** At zero assumed delay, with s.yaml's batch window (batchWindow below). */
    p50LatencyRatio: evp.p50LatencyRatio,
    byDelay: Object.fromEntries(sweep.points.map((p) => [p.delayMs, { p50LatencyRatio: p.p50LatencyRatio, eventReadCalls: p.eventReadCalls, pollReadCalls: p.pollReadCalls }])),
    breakEvenDelayMs: sweep.breakEvenDelayMs,
    batchWindow: evp.batchWindow,
    delaySweep: { inputs: sweep.inputs, distribution: sweep.distribution, points: sweep.points },
    fetchModeReadCallsRatio: evp.fetchModeReadCallsRatio,
    fetchModeP50LatencyRatio: evp.fetchModeP50LatencyRatio,
    inputs: evp.inputs,
    modes: { oss: evp.oss, fetch: evp.fetch, poll: evp.poll },
  },
  fanout: { idealRatio: fanout.idealRatio, duplicates: fanout.duplicates, inputs: { instances: fanout.instances, ratePerSecond: fanout.ratePerSecond, throttleRate: fanout.throttleRate }, seconds: fanout.seconds, idealSeconds: fanout.idealSeconds, calls: fanout.calls, throttled: fanout.throttled },
  pipeline: { seconds10k: pipeline.seconds, invocationsPer10k, usPerEvent: pipeline.usPerEvent.taskEvents, inputs: { events: pipeline.events, outputDelivery: 'oss', functions: 'bundles' }, eventsPerSecond: pipeline.eventsPerSecond, cpuUsPerEvent: pipeline.usPerEvent, invocations: { taskEvents: pipeline.taskEventsInvocations, summarize: pipeline.summarizeInvocations } },
  outputGroups: {
    maskedRatio: outputGroups.maskedRatio,
    exactRatio: outputGroups.exactRatio,
    inputs: { instances: outputGroups.instances, meanOutputBytes: Math.round(outputGroups.meanOutputBytes), mix: outputGroups.mix },
    usPerResult: { summary: outputGroups.summary.usPerResult, exact: outputGroups.exact.usPerResult, masked: outputGroups.masked.usPerResult },
    peakHeapBytes: { summary: outputGroups.summary.peakHeapBytes, exact: outputGroups.exact.peakHeapBytes, masked: outputGroups.masked.peakHeapBytes },
    retainedHeapBytes: { summary: outputGroups.summary.retainedHeapBytes, exact: outputGroups.exact.retainedHeapBytes, masked: outputGroups.masked.retainedHeapBytes },
    groups: { exact: outputGroups.exact.groups, masked: outputGroups.masked.groups },
    sha256UsPerResult: outputGroups.sha256UsPerResult,
  },
  memory: { peakRssGrowth: memory.peakRssGrowth, inputs: { instances: [memory.small.instances, memory.large.instances], outputBytes: 24 * 1024 }, peakRssBytes: { small: memory.small.peakRssBytes, large: memory.large.peakRssBytes }, foldSeconds: { small: memory.small.seconds, large: memory.large.seconds } },
  cost: {
    eventsCny10k: cost.eventsCny10k,
    pollingCny10k: cost.pollingCny10k,
    ratioVsPolling: cost.ratioVsPolling,
    pollingOtherLayout: cost.pollingOtherLayout,
    inputs: cost.inputs,
    units: cost.units,
    lines: cost.lines,
    ecsCallsPerSecond: cost.ecsCallsPerSecond,
  },
  coldStart: { importRatio: coldStart.importRatio, unusedSdkBundles: coldStart.unusedSdkBundles, chatAckMs: ack.medianMs, bundleBytes: coldStart.bundleBytes, importMs: coldStart.importMs, sdksInBundle: coldStart.sdksInBundle, inputs: { runs: coldStart.runs }, chatAckSamplesMs: ack.samplesMs },
};
await mkdir(RESULTS, { recursive: true });
await writeFile(path.join(RESULTS, 'latest.json'), `${JSON.stringify(latest, null, 2)}\n`);

const svg = renderChart(
  [
    { label: 'p50 latency, polling ÷ events (no delay)', value: evp.p50LatencyRatio, target: 10, kind: 'min', unit: '×' },
    { label: 'cost, 10,000 × 5 min: polling ÷ events', value: cost.ratioVsPolling, target: 5, kind: 'min', unit: '×' },
    { label: 'fetched: read calls, polling ÷ events', value: evp.fetchModeReadCallsRatio, target: 1, kind: 'min', unit: '×' },
    { label: 'fetched: p50 latency, polling ÷ events', value: evp.fetchModeP50LatencyRatio, target: 1, kind: 'min', unit: '×' },
    { label: 'fan-out time ÷ ideal', value: fanout.idealRatio, target: 1.1, kind: 'max', unit: '×' },
    { label: 'pipeline, 10,000 results', value: pipeline.seconds, target: 5, kind: 'max', unit: ' s' },
    { label: 'pipeline invocations per 10,000 results', value: invocationsPer10k, target: 300, kind: 'max', unit: '' },
    { label: 'slowest bundle import, unbundled ÷ bundled', value: coldStart.importRatio, target: 1.3, kind: 'min', unit: '×' },
    { label: 'chat cold acknowledgement', value: ack.medianMs, target: 1000, kind: 'max', unit: ' ms' },
    { label: 'summarize peak RSS, 10,000 ÷ 1,000', value: memory.peakRssGrowth, target: 1.5, kind: 'max', unit: '×' },
  ],
  [
    { mode: '(a) events, OSS delivery', p50Ms: evp.oss.resultLatency.p50Ms, p95Ms: evp.oss.resultLatency.p95Ms, readCalls: evp.oss.readCalls },
    { mode: '(b) events, fetched', p50Ms: evp.fetch.resultLatency.p50Ms, p95Ms: evp.fetch.resultLatency.p95Ms, readCalls: evp.fetch.readCalls },
    { mode: '(c) polling every 5 s', p50Ms: evp.poll.resultLatency.p50Ms, p95Ms: evp.poll.resultLatency.p95Ms, readCalls: evp.poll.readCalls },
  ],
  `fleetrun benchmarks · ${latest.date.slice(0, 10)} · Node ${process.version} · ${latest.machine.cpus} cores`,
);
await writeFile(path.join(RESULTS, 'latest.svg'), svg);

const rows = Object.entries(coldStart.importMs).map(([fn, m]) => `| ${fn} | ${(coldStart.bundleBytes[fn]! / 1024).toFixed(0)} KB | ${m.bundled.toFixed(0)} ms | ${m.unbundled.toFixed(0)} ms | ${m.ratio.toFixed(2)}× | ${coldStart.sdksInBundle[fn]!.join(', ')} |`);
const mode = (name: string, m: typeof evp.oss) => `| ${name} | ${m.readCalls} | ${ms(m.resultLatency.p50Ms)} | ${ms(m.resultLatency.p95Ms)} | ${ms(m.resultLatency.maxMs)} | ${ms(m.summaryLatencyMs)} | ${m.summary.total} (${m.summary.failed} failed) |`;
await writeFile(
  path.join(RESULTS, 'latest.md'),
  [
    `# Benchmarks (${latest.date}, Node ${process.version}, ${latest.machine.cpus} cores)`,
    '',
    '![figures against their targets](latest.svg)',
    '',
    `## Events vs polling`,
    '',
    `${evpInputs.instances} instances in 2 RunCommand calls, durations log-uniform ${evpInputs.minSeconds}–${evpInputs.maxSeconds} s, ${evpInputs.failRate * 100}% failing, time scale ${evpInputs.timeScale} (real time), the three side by side. Read calls are DescribeInvocations + DescribeInvocationResults; latency is from a script's end to its result object in OSS.`,
    '',
    '| way | ECS read calls | p50 | p95 | max | last finish → summary | summary |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
    mode('(a) events, output delivered to OSS', evp.oss),
    mode('(b) events, output fetched', evp.fetch),
    mode(`(c) DescribeInvocations every ${evpInputs.pollSeconds} s`, evp.poll),
    '',
    `(c) ÷ (a) p50 latency: ${evp.p50LatencyRatio.toFixed(1)}×; (c) ÷ (b): ${evp.fetchModeP50LatencyRatio.toFixed(1)}× latency, ${evp.fetchModeReadCallsRatio.toFixed(2)}× read calls. These assume the cloud hands events, queued messages and output objects on at once; task-events' batch window: ${evp.batchWindow ? `${evp.batchWindow.CountBasedWindow ?? 1} events, ${evp.batchWindow.TimeBasedWindow ?? 0} s` : 'none'}.`,
    '',
    `### At assumed delays`,
    '',
    `(a) against (c) again, ${sweepInputs.instances} instances, scripts ${sweepInputs.minSeconds}–${sweepInputs.maxSeconds} s (real time), with the delays of EventBridge, event streaming and Cloud Assistant's output objects assumed: each ${sweep.distribution}.`,
    '',
    '| assumed delay d | events p50 | events p95 | polling p50 | polling ÷ events (p50) | event read calls | poll read calls |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...sweep.points.map((p) => `| ${p.delayMs} ms | ${ms(p.eventLatency.p50Ms)} | ${ms(p.eventLatency.p95Ms)} | ${ms(p.pollLatency.p50Ms)} | ${p.p50LatencyRatio.toFixed(2)}× | ${p.eventReadCalls} | ${p.pollReadCalls} |`),
    '',
    `Events stop beating a ${sweepInputs.pollSeconds} s poller at p50 at an assumed delay of ${breakEven} (linear between the measured points around it).`,
    '',
    `## Fan-out`,
    '',
    `${fanout.instances} instances, API limit ${fanout.ratePerSecond} calls/s, ${fanout.throttleRate * 100}% of calls throttled: ${fanout.seconds.toFixed(2)} s against the ideal ${fanout.idealSeconds} s (${fanout.idealRatio.toFixed(2)}×), ${fanout.duplicates} duplicate executions.`,
    '',
    `## Pipeline`,
    '',
    `${pipeline.events} TaskCompleted events → task-events → MNS → summarize → summary (bundles, outputs delivered to OSS): ${pipeline.seconds.toFixed(1)} s, ${pipeline.eventsPerSecond.toFixed(0)} events/s. CPU per event: task-events ${pipeline.usPerEvent.taskEvents.toFixed(0)} µs, summarize ${pipeline.usPerEvent.summarize.toFixed(0)} µs, the local cloud (ECS, EventBridge, MNS, OSS, FC host) ${pipeline.usPerEvent.localCloud.toFixed(0)} µs — all on the same ${latest.machine.cpus} cores. Invocations: task-events ${pipeline.taskEventsInvocations}, summarize ${pipeline.summarizeInvocations} (${invocationsPer10k.toFixed(0)} per 10,000 results; target ≤ 300).`,
    '',
    `## Cost`,
    '',
    `A run of ${cost.inputs.instances.toLocaleString('en-US')} instances whose scripts take ${cost.inputs.scriptSeconds / 60} minutes, priced with Alibaba Cloud's published unit prices (bench/cost/prices.ts; the model and its assumptions: docs/cost-model.md). Event path: ${cost.eventsCny10k.toFixed(4)} CNY; polling every ${cost.inputs.pollSeconds} s (${cost.inputs.pollerLayout}): ${cost.pollingCny10k.toFixed(4)} CNY — polling ÷ events **${cost.ratioVsPolling.toFixed(2)}×** (target ≥ 5); a poller per invocation (${cost.pollingOtherLayout.layout}): ${cost.pollingOtherLayout.cny10k.toFixed(4)} CNY.`,
    '',
    `### Event path`,
    '',
    formatCostMarkdown({ lines: cost.lines.events, totalCny: cost.eventsCny10k }),
    '',
    `### Polling (${cost.inputs.pollerLayout})`,
    '',
    formatCostMarkdown({ lines: cost.lines.polling, totalCny: cost.pollingCny10k }),
    '',
    `## Cold start and size`,
    '',
    '| function | bundle | import bundled | import unbundled | ratio | SDKs in the bundle |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
    ...rows,
    '',
    `Chat function's cold acknowledgement (fresh process, bundle loaded, one signed request answered): median ${ack.medianMs.toFixed(0)} ms of ${ack.samplesMs.length}, against Slack's 3,000 ms.`,
    '',
    `## Memory`,
    '',
    `Summarize folding a run's results (24 KB outputs) peaks at ${mb(memory.small.peakRssBytes)} for 1,000 instances and ${mb(memory.large.peakRssBytes)} for 10,000 (${memory.peakRssGrowth.toFixed(2)}×; folding took ${memory.small.seconds.toFixed(1)} s and ${memory.large.seconds.toFixed(1)} s).`,
    '',
    `## Output groups`,
    '',
    `Summarize reading and folding ${outputGroups.instances.toLocaleString('en-US')} results (${(outputGroups.meanOutputBytes / 1024).toFixed(1)} KB outputs on average; 98% healthy logs alike but for their timestamps, numbers, addresses and ids, 1.5% failing, 0.5% timed out), in µs per result, storage calls aside:`,
    '',
    '| way | µs per result | peak heap | retained heap | groups |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...(['summary', 'exact', 'masked'] as const).map((k) => {
      const w = outputGroups[k];
      const name = { summary: 'summary alone (baseline)', exact: 'summary + groups, exact output', masked: 'summary + groups, numbers, hex, IPs and timestamps masked' }[k];
      return `| ${name} | ${w.usPerResult.toFixed(0)} | +${mb(w.peakHeapBytes)} | +${mb(w.retainedHeapBytes)} | ${w.groups ? w.groups.toLocaleString('en-US') : '—'} |`;
    }),
    '',
    `Masked ÷ baseline ${outputGroups.maskedRatio.toFixed(2)}×, exact ÷ baseline ${outputGroups.exactRatio.toFixed(2)}×; SHA-256 of one output ${outputGroups.sha256UsPerResult.toFixed(0)} µs.`,
    '',
  ].join('\n'),
);
console.log(`written: ${path.relative(ROOT, path.join(RESULTS, 'latest.json'))}, latest.md, latest.svg`);
