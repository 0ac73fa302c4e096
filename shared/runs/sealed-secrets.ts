/**
 * A run's secret values, sealed once — where the run is asked for (chatops, or the schedule tick
 * for a timer job) — and kept in that one form wherever the run goes: the dispatch request, the
 * pending-dispatch record and the manifest hold the same string, and only startRun opens it, to
 * hand Cloud Assistant the parameters.
 *
 * Opened (seal.ts), it is a list of strings: first the values of the run's secret parameters as
 * Cloud Assistant gets them, in the order of the run's `secretParameters`; then the same values as
 * the script prints them (the catalog sends values base64-encoded), which redaction must find too.
 * Every string in it is a secret, so task-events and the reconciler redact the whole list.
 *
 * Stored format: a manifest holds the list it always held (the values to redact, now in this
 * order). A pending-dispatch record from before held one JSON string in the list instead and can no
 * longer be opened; no deployment holds any.
 */
import { z } from 'zod';
import { seal, SealError, unseal } from './seal.ts';

/** What seal() returns: base64 of the IV, tag and ciphertext. */
export const sealedSecretsSchema = z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, 'is not a sealed value (base64)');

/** The secret parameters (name → value as sent) and the values as printed, sealed in one string. */
export function sealSecrets(secretParameters: readonly string[], parameters: Readonly<Record<string, string>>, printed: readonly string[], key: string): string {
  const sent = secretParameters.map((name) => {
    const value = parameters[name];
    if (value === undefined) throw new SealError(`secret parameter "${name}" has no value`);
    return value;
  });
  return seal([...sent, ...new Set(printed.filter((p) => !sent.includes(p)))], key);
}

export interface OpenedSecrets {
  /** The secret parameters as Cloud Assistant gets them. */
  parameters: Record<string, string>;
  /** Every secret text, for redaction. */
  redact: string[];
}

/** Opens what {@link sealSecrets} sealed for these `secretParameters`. */
export function openSecrets(sealed: string, secretParameters: readonly string[], key: string): OpenedSecrets {
  const values = unseal(sealed, key);
  if (values.length < secretParameters.length) throw new SealError('the sealed secrets hold fewer values than the run has secret parameters');
  return { parameters: Object.fromEntries(secretParameters.map((name, i) => [name, values[i]!])), redact: values };
}
