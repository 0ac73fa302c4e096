/**
 * The local cloud's reading of a Terraform stack the `ros` component deploys through ROS
 * (`terraform: ./dir`): the folder's `.tf` files parsed with HashiCorp's HCL parser
 * (@cdktf/hcl2json). The local cloud creates what fleetrun declares this way — service-linked roles —
 * and refuses any other resource by name, as it refuses what it does not emulate in a ROS template.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { RosTemplateError } from './template.ts';

/** The parser, loaded when a Terraform stack is read; typed here because its own types pull in the DOM library, which retypes fetch for the whole project. */
async function hclParser(): Promise<(file: string, text: string) => Promise<unknown>> {
  const hcl2json = '@cdktf/hcl2json';
  return ((await import(hcl2json)) as { parse(file: string, text: string): Promise<unknown> }).parse;
}

export interface TerraformStack {
  /** Service names of the `alicloud_resource_manager_service_linked_role` resources. */
  serviceLinkedRoles: string[];
}

const SERVICE_LINKED_ROLE = 'alicloud_resource_manager_service_linked_role';

/** Reads every `.tf` file of the folder; a literal `service_name` is required (no variables: none is declared). */
export async function readTerraformStack(dir: string): Promise<TerraformStack> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.tf')).sort();
  if (files.length === 0) throw new RosTemplateError('InvalidTemplate', `${dir}: no .tf file`);
  const parse = await hclParser();
  const serviceLinkedRoles: string[] = [];
  for (const file of files) {
    let doc: { resource?: Record<string, Record<string, Record<string, unknown>[]>> } & Record<string, unknown>;
    try {
      doc = (await parse(file, await readFile(path.join(dir, file), 'utf8'))) as typeof doc;
    } catch (e) {
      throw new RosTemplateError('InvalidTemplate', `${path.join(dir, file)}: not valid HCL: ${(e as Error).message}`);
    }
    for (const block of Object.keys(doc)) {
      if (block !== 'resource') throw new RosTemplateError('LocalCloudUnsupported', `${path.join(dir, file)}: a ${block} block, which the local cloud does not read (it reads resource blocks)`);
    }
    for (const [type, byName] of Object.entries(doc.resource ?? {})) {
      for (const [name, [body]] of Object.entries(byName)) {
        if (type !== SERVICE_LINKED_ROLE) throw new RosTemplateError('LocalCloudUnsupported', `${path.join(dir, file)}: resource ${type}.${name}, which the local cloud does not create (it creates ${SERVICE_LINKED_ROLE})`);
        const service = body?.service_name;
        if (typeof service !== 'string' || service === '' || service.includes('${')) {
          throw new RosTemplateError('InvalidTemplate', `${path.join(dir, file)}: ${type}.${name} needs a literal service_name`);
        }
        serviceLinkedRoles.push(service);
      }
    }
  }
  return { serviceLinkedRoles };
}
