/**
 * XML output of the local OSS service, built with fast-xml-parser so every value is escaped.
 */
import { XMLBuilder } from 'fast-xml-parser';

/** A value the builder turns into an element: text, a nested element, or a repeated element (array). */
export type XmlValue = string | number | XmlElement | readonly XmlElement[] | readonly string[] | undefined;
/** Element body; keys are child element names in document order, `undefined` children are left out. */
export interface XmlElement {
  [child: string]: XmlValue;
}

const builder = new XMLBuilder({ ignoreAttributes: false, format: false, suppressEmptyNode: false });

/**
 * Renders `<?xml …?><root>…</root>` the way OSS answers (UTF-8 declaration, no pretty-printing).
 * Keys with XML-illegal control characters cannot be represented; OSS offers `encoding-type=url` for
 * them and so does the emulator.
 */
export function renderXml(root: string, body: XmlElement): string {
  return builder.build({ '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' }, [root]: prune(body) }) as string;
}

// The builder writes `undefined` children as empty elements; OSS omits absent ones instead.
function prune(body: XmlElement): XmlElement {
  const out: XmlElement = {};
  for (const [k, v] of Object.entries(body)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) out[k] = v.map((item: string | XmlElement) => (typeof item === 'object' ? prune(item) : item)) as XmlValue;
    else out[k] = typeof v === 'object' ? prune(v as XmlElement) : v;
  }
  return out;
}
