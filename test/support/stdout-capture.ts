/**
 * A function run in-process writes its log lines to stdout, as on FC; this catches them, so a
 * test can read the lines one call wrote.
 */
export interface StdoutCapture {
  /** Every line written while capturing, in order. */
  lines: string[];
  /** On: stdout's lines go to `lines` and not to the terminal. Off: stdout is as it was. */
  capture(on: boolean): void;
}

export function stdoutCapture(): StdoutCapture {
  const lines: string[] = [];
  const realWrite = process.stdout.write.bind(process.stdout);
  return {
    lines,
    capture(on) {
      process.stdout.write = on
        ? (((chunk: string | Uint8Array) => {
            lines.push(...String(chunk).split('\n').filter(Boolean));
            return true;
          }) as typeof process.stdout.write)
        : realWrite;
    },
  };
}
