/**
 * The RPC wire: flat query parameters in, JSON out. The SDK flattens lists to `Name.N` and lists
 * of structs to `Name.N.Field` (reference §3); this puts them back into arrays and objects.
 */

/** `InstanceId.1=a&InstanceId.2=b&ResourceTag.1.Key=k` → `{ InstanceId: ['a','b'], ResourceTag: [{ Key: 'k' }] }`. */
export function structureParams(flat: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const lists = new Map<string, Map<number, unknown>>();
  for (const [key, value] of Object.entries(flat)) {
    const m = /^([A-Za-z]+)\.(\d+)(?:\.([A-Za-z]+))?$/.exec(key);
    if (!m) {
      out[key] = value;
      continue;
    }
    const [, name, index, field] = m as unknown as [string, string, string, string | undefined];
    const list = lists.get(name) ?? new Map<number, unknown>();
    lists.set(name, list);
    const n = Number(index);
    if (field) {
      const item = (list.get(n) as Record<string, string> | undefined) ?? {};
      item[field] = value;
      list.set(n, item);
    } else {
      list.set(n, value);
    }
  }
  for (const [name, list] of lists) out[name] = [...list.entries()].sort(([a], [b]) => a - b).map(([, v]) => v);
  return out;
}

/** The API's time format: ISO 8601 UTC to the second, empty string when unset. */
export function apiTime(date: Date | undefined): string {
  return date ? date.toISOString().replace(/\.\d{3}Z$/, 'Z') : '';
}

export function encodeText(text: string, encoding: 'PlainText' | 'Base64'): string {
  return encoding === 'Base64' ? Buffer.from(text, 'utf8').toString('base64') : text;
}

export function tagList(tags: { key: string; value: string }[]): { Tag: { TagKey: string; TagValue: string }[] } {
  return { Tag: tags.map((t) => ({ TagKey: t.key, TagValue: t.value })) };
}
