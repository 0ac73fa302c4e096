/**
 * Log lines for functions and the local cloud. Every line passes through redaction: values the
 * logger was told are secret (access key secrets, secret parameters, signing secrets), in every
 * form redaction.ts looks for, are replaced before anything is written, so a secret cannot reach a
 * log by accident.
 */
import { redactorFor, type Redactor } from './redaction.ts';

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger that also redacts these values. */
  withSecrets(secrets: Iterable<string>): Logger;
}

export type LogSink = (line: string) => void;

/**
 * Redacts every string of a line before it is serialized — values, keys, and numbers as their text —
 * so a match never cuts through JSON's escapes or structure, and an escaped secret is found as the
 * text it stands for.
 */
function redactingReplacer(redactor: Redactor): (key: string, value: unknown) => unknown {
  return (_key, value) => {
    if (typeof value === 'string') return redactor.redact(value);
    if (typeof value === 'number') {
      const text = String(value);
      const redacted = redactor.redact(text);
      return redacted === text ? value : redacted;
    }
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const entries = Object.entries(value);
      if (entries.some(([k]) => redactor.redact(k) !== k)) return Object.fromEntries(entries.map(([k, v]) => [redactor.redact(k), v]));
    }
    return value;
  };
}

export function createLogger(options: { sink?: LogSink; requestId?: string; name?: string; secrets?: Iterable<string> } = {}): Logger {
  const sink = options.sink ?? ((line: string) => process.stdout.write(`${line}\n`));
  // Secrets shorter than MIN_SECRET_LENGTH are left out by the redactor: they would redact ordinary words.
  const secrets = [...new Set(options.secrets ?? [])];
  const replacer = redactingReplacer(redactorFor(secrets));
  const write = (level: string, message: string, fields?: Record<string, unknown>) => {
    sink(JSON.stringify({ time: new Date().toISOString(), level, ...(options.name ? { fn: options.name } : {}), ...(options.requestId ? { requestId: options.requestId } : {}), message, ...fields }, replacer));
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    withSecrets: (more) => createLogger({ ...options, sink, secrets: [...secrets, ...more] }),
  };
}
