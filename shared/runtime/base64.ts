/**
 * Base64 as the platform sends it (standard alphabet, padded, possibly line-wrapped), checked
 * before decoding: Buffer.from(…, 'base64') skips what is not base64 instead of failing, which
 * would turn a wrong body into silently different bytes.
 */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The text without whitespace when it is base64, else undefined. */
export function compactBase64(text: string): string | undefined {
  const compact = text.replace(/\s+/g, '');
  return compact.length % 4 === 0 && BASE64.test(compact) ? compact : undefined;
}

/** How many bytes a compact base64 text decodes to, known without decoding it. */
export function decodedLength(compact: string): number {
  return (compact.length / 4) * 3 - (compact.endsWith('==') ? 2 : compact.endsWith('=') ? 1 : 0);
}
