/** The catalog, policy and job files, loaded once per cold start from the paths in the configuration. */
import path from 'node:path';
import type { ChatFilesEnv } from '../config/chat-env.ts';
import { loadCatalog, type Catalog } from '../config/catalog.ts';
import { loadPolicy, type Policy } from '../config/policy.ts';
import { loadJobsFile } from '../schedule/jobs-file.ts';
import type { Job } from '../schedule/jobs-file.ts';

export interface ChatFiles {
  catalog: Catalog;
  policy: Policy;
  jobs: Job[];
}

let loading: Promise<ChatFiles> | undefined;

/**
 * The function's code folder, which relative paths are relative to: FC_FUNC_CODE_PATH (FC sets it
 * to the code folder; the local host too), else the folder of the running bundle. Never the
 * working directory: FC does not promise one, and the local host starts each instance elsewhere.
 */
export function codeFolder(env: Pick<ChatFilesEnv, 'FC_FUNC_CODE_PATH'>): string {
  if (env.FC_FUNC_CODE_PATH) return env.FC_FUNC_CODE_PATH;
  // A CommonJS bundle has __dirname (its own folder); ESM source has none and always runs under a host that sets the variable.
  return typeof __dirname === 'string' ? __dirname : process.cwd();
}

export function loadChatFiles(env: ChatFilesEnv): Promise<ChatFiles> {
  loading ??= (async () => {
    const base = codeFolder(env);
    const at = (p: string) => path.resolve(base, p);
    const [catalog, policy, jobs] = await Promise.all([loadCatalog(at(env.FLEETRUN_CATALOG_FILE)), loadPolicy(at(env.FLEETRUN_POLICY_FILE)), loadJobsFile(at(env.FLEETRUN_JOBS_FILE))]);
    return { catalog, policy, jobs };
  })();
  // A failed load is retried by the next invocation rather than remembered.
  loading.catch(() => (loading = undefined));
  return loading;
}
