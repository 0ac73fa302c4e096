/**
 * The MNS XML wire, parsed and built with fast-xml-parser. Requests come from an SDK that builds XML
 * by string concatenation without escaping (docs/platform-facts.md §8.4), so anything that is not well-formed
 * is refused as `MalformedXML` rather than guessed at.
 */
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { MnsError } from './errors.ts';

/** The namespace every MNS document carries. The SDK ignores it, but real responses have it. */
export const MNS_NAMESPACE = 'http://mns.aliyuncs.com/doc/v1/';

/** The content type of every XML response; the SDK only parses bodies whose type starts with `text/xml`. */
export const XML_CONTENT_TYPE = 'text/xml;charset=utf-8';

/** An element with child elements: child name → text, element, or a list when the name repeats. */
export type XmlElement = { [name: string]: XmlValue };
/** What a child can be after parsing. */
export type XmlValue = string | XmlElement | XmlValue[];

/** A parsed request document. */
export interface XmlDocument {
  /** Local name of the single root element, e.g. `'Message'` or `'Messages'`. */
  root: string;
  /** The root's children; `{}` for an empty root. */
  content: XmlElement;
}

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  // Values stay strings (a body of "0012" must not become 12) and keep their whitespace.
  parseTagValue: false,
  trimValues: false,
  // Decodes numeric character references (&#60;), which plain XML entity mode leaves in place.
  // It also accepts a few HTML named entities; being lenient there costs nothing.
  htmlEntities: true,
});

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  processEntities: true,
  suppressEmptyNode: false,
});

/**
 * Parses a request body.
 * @throws MnsError `MalformedXML` when the body is not one well-formed XML element, or has a DOCTYPE
 *   (entity declarations are not part of the MNS protocol and only open the door to expansion tricks).
 */
export function parseRequestXml(body: Buffer | string): XmlDocument {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (/<!DOCTYPE/i.test(text)) throw new MnsError('MalformedXML', 'DOCTYPE declarations are not accepted.');
  const verdict = XMLValidator.validate(text);
  if (verdict !== true) {
    throw new MnsError(
      'MalformedXML',
      `The XML is not well-formed (line ${verdict.err.line}, column ${verdict.err.col}: ${verdict.err.msg}). Message bodies must be XML-escaped or base64-encoded.`,
    );
  }
  let parsed: unknown;
  try {
    parsed = parser.parse(text);
  } catch (e) {
    // The parser refuses element names such as "__proto__"; that is a malformed request, not a crash.
    throw new MnsError('MalformedXML', `The XML could not be parsed: ${(e as Error).message}`);
  }
  const roots = Object.keys(parsed as object).filter((k) => k !== '#text');
  if (roots.length !== 1 || Array.isArray((parsed as XmlElement)[roots[0]!])) {
    throw new MnsError('MalformedXML', 'The XML must have exactly one root element.');
  }
  const root = roots[0]!;
  return { root, content: asElement((parsed as XmlElement)[root]!, root) };
}

/** The children of a container element; text that is not just whitespace is a schema violation. */
export function asElement(value: XmlValue, name: string): XmlElement {
  if (typeof value === 'string') {
    if (value.trim() !== '') throw new MnsError('MalformedXML', `<${name}> must contain elements, not text.`);
    return {};
  }
  if (Array.isArray(value)) throw new MnsError('MalformedXML', `<${name}> appears more than once.`);
  const out: XmlElement = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === '#text') {
      if (typeof v === 'string' && v.trim() !== '') throw new MnsError('MalformedXML', `<${name}> mixes text and elements.`);
      continue;
    }
    out[k] = v;
  }
  return out;
}

/**
 * The text of a child that may appear at most once.
 * @returns undefined when the child is absent
 * @throws MnsError `MalformedXML` when it repeats or contains elements
 */
export function childText(element: XmlElement, name: string): string | undefined {
  if (!Object.hasOwn(element, name)) return undefined;
  const value = element[name]!;
  if (Array.isArray(value)) throw new MnsError('MalformedXML', `<${name}> appears more than once.`);
  if (typeof value !== 'string') throw new MnsError('MalformedXML', `<${name}> must contain text, not elements.`);
  return value;
}

/** A child that may repeat, as a list (empty when absent). */
export function childList(element: XmlElement, name: string): XmlValue[] {
  if (!Object.hasOwn(element, name)) return [];
  const value = element[name]!;
  return Array.isArray(value) ? value : [value];
}

/** A response value: text, a number, a nested element, or a list of repeated elements. */
export type XmlOut = string | number | boolean | { [name: string]: XmlOut | undefined } | XmlOut[];

/**
 * Serialises a response document with the declaration and the MNS namespace on the root.
 * Values are entity-escaped, which is what lets message bodies round-trip through the SDK's xml2js.
 */
export function buildXml(root: string, content: { [name: string]: XmlOut | undefined }): string {
  const clean: Record<string, unknown> = { '@_xmlns': MNS_NAMESPACE };
  for (const [k, v] of Object.entries(content)) if (v !== undefined) clean[k] = v;
  return `<?xml version="1.0" encoding="UTF-8"?>${builder.build({ [root]: clean }) as string}`;
}
