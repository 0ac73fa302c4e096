/**
 * Text from instances (their output, and what is derived from it) in a chat message, where it must
 * show as text on every platform fleetrun answers on. A code span is not enough: DingTalk's
 * Markdown has none (headings, quotes, emphasis, links, images, lists and <font>), and DingTalk
 * renders even a plain-text reply as Markdown (chat/platforms/dingtalk.ts); Lark's card Markdown
 * renders links, images and <at>/<font> tags; clients turn bare web addresses, domains and e-mail
 * addresses into links. So besides the code span, the text gets an invisible break — a zero-width
 * space (U+200B) — wherever one of those could begin: after `]` (before the `(` of a link or an
 * image), after `<` (a tag or an autolink), after `@` (an e-mail address or a mention), between a
 * scheme's `:` and `//`, and after a `.` followed by a letter or digit (a domain: "evil.example",
 * "www.evil.example"). It reads the same; the report keeps the text exactly.
 */

/** Control characters, line and paragraph separators, and invisible format characters (zero-width, bidirectional overrides) that could hide or reorder text. */
const UNSHOWABLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]+/g;

/** One line of instance text: what would end a code span (a backquote) or the line itself, made harmless. */
export function chatPlain(text: string): string {
  return text.replace(UNSHOWABLE, ' ').replace(/`/g, "'");
}

const BREAK = '\u200b';

/** `text` (already chatPlain) with a zero-width space wherever a link, image, tag, address or mention could begin. */
export function chatDefused(text: string): string {
  return text
    .replace(/[\]<@]/g, `$&${BREAK}`)
    .replace(/:(?=\/)/g, `:${BREAK}`)
    .replace(/\.(?=[\p{L}\p{N}])/gu, `.${BREAK}`);
}

/** Instance text as it goes into a chat message: one line, shown as text by every platform. */
export function chatLiteral(text: string): string {
  return chatDefused(chatPlain(text));
}

/** Instance text in a code span (plain-text platforms show the backquotes, which mark it as quoted); '' stays ''. */
export function chatCode(text: string): string {
  return text === '' ? '' : `\`${chatLiteral(text)}\``;
}
