/** The catalog, policy and job files, loaded once per cold start from the paths in the configuration. */
import path from 'node:path';
import type { ChatEnv } from '../config/chat-env.ts';
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

/** Relative paths are the function's code folder's (FC runs a function from it). */
export function loadChatFiles(env: ChatEnv): Promise<ChatFiles> {
  loading ??= (async () => {
    const at = (p: string) => path.resolve(p);
    const [catalog, policy, jobs] = await Promise.all([loadCatalog(at(env.FLEETRUN_CATALOG_FILE)), loadPolicy(at(env.FLEETRUN_POLICY_FILE)), loadJobsFile(at(env.FLEETRUN_JOBS_FILE))]);
    return { catalog, policy, jobs };
  })();
  // A failed load is retried by the next invocation rather than remembered.
  loading.catch(() => (loading = undefined));
  return loading;
}
