/**
 * When each object of the runs bucket was first written, from the local OSS's log (one line per
 * answered request): what the benchmarks time results and summaries by, without touching the code
 * they measure.
 */
const WRITE = /^\[oss\] PutObject fleetrun-runs\/(\S+) 200 /;

export function ossWriteTimes(now: () => number = Date.now): { log: (line: string) => void; written: Map<string, number> } {
  const written = new Map<string, number>();
  return {
    written,
    log: (line) => {
      const m = WRITE.exec(line);
      if (m && !written.has(m[1]!)) written.set(m[1]!, now());
    },
  };
}
