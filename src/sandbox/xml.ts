/** awsQuery XML response building for the IAM sandbox. */
export const IAM_XML_NAMESPACE = 'https://iam.amazonaws.com/doc/2010-05-08/';
export const STS_XML_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';

/** What an awsQuery error envelope carries (IAM and STS use the same one). */
export interface QueryErrorLike {
  type: 'Sender' | 'Receiver';
  code: string;
  message: string;
}

// Characters XML 1.0 cannot carry at all; dropped rather than producing unparseable output.
const INVALID_XML_CHARS = /[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu;

export function escapeXml(value: string): string {
  return value
    .replace(INVALID_XML_CHARS, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\r/g, '&#xD;'); // a raw CR would be normalised to LF by parsers
}

/** IAM writes timestamps as ISO 8601 UTC with a `Z` and whole seconds. */
export const xmlTime = (d: Date): string => d.toISOString().replace(/\.000Z$/, 'Z');

/** `<name>value</name>`, or '' when value is null/undefined. Dates use xmlTime; text is escaped. */
export function el(name: string, value: string | number | boolean | Date | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = value instanceof Date ? xmlTime(value) : escapeXml(String(value));
  return `<${name}>${text}</${name}>`;
}

/** `<name>` wrapping already-built child XML. */
export const wrap = (name: string, innerXml: string): string => `<${name}>${innerXml}</${name}>`;

/** awsQuery lists: `<Name><member>..</member>...</Name>`. */
export const memberList = (name: string, items: readonly string[]): string =>
  wrap(name, items.map((i) => wrap('member', i)).join(''));

/** `<XxxResponse><XxxResult>..</XxxResult><ResponseMetadata>..</ResponseMetadata></XxxResponse>`; no Result for unit outputs. */
export function successXml(action: string, resultXml: string | null, requestId: string, namespace = IAM_XML_NAMESPACE): string {
  const result = resultXml === null ? '' : wrap(`${action}Result`, resultXml);
  return (
    `<${action}Response xmlns="${namespace}">` +
    result +
    wrap('ResponseMetadata', el('RequestId', requestId)) +
    `</${action}Response>\n`
  );
}

/** IAM's (and STS's) error envelope (the SDK reads Error/Code and maps it to an exception class). */
export function errorXml(err: QueryErrorLike, requestId: string, namespace = IAM_XML_NAMESPACE): string {
  return (
    `<ErrorResponse xmlns="${namespace}">` +
    wrap('Error', el('Type', err.type) + el('Code', err.code) + el('Message', err.message)) +
    el('RequestId', requestId) +
    `</ErrorResponse>\n`
  );
}
