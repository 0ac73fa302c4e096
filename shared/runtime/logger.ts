/**
 * Log lines for functions and the local cloud. Every line passes through redaction: values the
 * logger was told are secret (access key secrets, secret parameters, signing secrets) are replaced
 * before anything is written, so a secret cannot reach a log by accident.
 */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger that also redacts these values. */
  withSecrets(secrets: Iterable<string>): Logger;
}

export type LogSink = (line: string) => void;

export const REDACTED = '***';

/** Replaces every occurrence of each secret (longest first, so one secret inside another goes whole). */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join(REDACTED);
  return out;
}

export function createLogger(options: { sink?: LogSink; requestId?: string; name?: string; secrets?: Iterable<string> } = {}): Logger {
  const sink = options.sink ?? ((line: string) => process.stdout.write(`${line}\n`));
  // Secrets shorter than 4 characters would redact ordinary words; such a secret is a configuration mistake anyway.
  const secrets = [...new Set([...(options.secrets ?? [])].filter((s) => s.length >= 4))].sort((a, b) => b.length - a.length);
  // The line is JSON: a secret holding a quote, a backslash or a control character appears in it
  // escaped, so the escaped form is what has to be found.
  const needles = [...new Set(secrets.flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]))].sort((a, b) => b.length - a.length);
  const write = (level: string, message: string, fields?: Record<string, unknown>) => {
    const line = JSON.stringify({ time: new Date().toISOString(), level, ...(options.name ? { fn: options.name } : {}), ...(options.requestId ? { requestId: options.requestId } : {}), message, ...fields });
    sink(redact(line, needles));
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    withSecrets: (more) => createLogger({ ...options, sink, secrets: [...secrets, ...more] }),
  };
}
