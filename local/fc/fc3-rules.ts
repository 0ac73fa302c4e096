/**
 * What Function Compute 3.0 refuses in a function's configuration and the local host refuses with
 * it, so a deployment that FC would not run does not pass locally either.
 *
 * Instance concurrency: Alibaba's "Comparison and compatibility between Function Compute 3.0 and
 * Function Compute 2.0" page: "Standard runtimes of Function Compute no longer support the
 * instance concurrency feature. Instances that run in custom runtimes still support it."
 */
import type { FunctionProps } from './s-yaml.ts';

/** The runtimes FC 3.0 still lets set instanceConcurrency above 1. */
export const CUSTOM_RUNTIMES: readonly string[] = ['custom', 'custom.debian10', 'custom.debian11', 'custom.debian12', 'custom-container'];

export class Fc3RuleError extends Error {
  override readonly name = 'Fc3RuleError';
}

export function isCustomRuntime(runtime: string): boolean {
  return CUSTOM_RUNTIMES.includes(runtime);
}

/** Throws, naming the function, the key and the reason, when FC 3.0 would refuse the function. */
export function checkFc3Function(props: Pick<FunctionProps, 'functionName' | 'runtime' | 'instanceConcurrency'>): void {
  if (props.instanceConcurrency > 1 && !isCustomRuntime(props.runtime)) {
    throw new Fc3RuleError(
      `function ${props.functionName}: instanceConcurrency ${props.instanceConcurrency} on runtime ${props.runtime}: Function Compute 3.0's standard (built-in) runtimes no longer support instance concurrency; only custom runtimes (${CUSTOM_RUNTIMES.join(', ')}) do. Remove instanceConcurrency: FC starts another instance for each concurrent invocation.`,
    );
  }
}
