/**
 * Durations as reports show them. Cloud Assistant gives an instance's StartTime and FinishedTime to
 * the second (DescribeInvocationResults: "2019-12-20T06:15:55Z"; docs/platform-facts.md §4.5), so a duration taken from them is a
 * whole number of seconds: 0 says the task started and finished within one second, not that it
 * took no time — it shows as "< 1 s", never "0 ms" — and 3000 shows as "3 s", not "3.0 s".
 */

/** `ms` as a person reads it; '–' for none. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return '–';
  if (ms === 0) return '< 1 s';
  // Only a source with finer times than the API's gives these.
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}
