/** Longest error message sent: messages echo the caller's values, which can be as long as the body (100 kB). */
export const MAX_ERROR_MESSAGE_LENGTH = 1000;
export const TRUNCATED_MARK = ' … (message truncated)';

const SUGGESTION = 'Did you mean ';

/**
 * An error message fit to send to a client: at most MAX_ERROR_MESSAGE_LENGTH characters (plus the mark),
 * without graphql-js's schema suggestions ("… Did you mean "findings"?", always the end of its messages).
 * The text is bounded first, then cut at its first "Did you mean " (what comes after is the suggestion, or
 * the caller's own text echoed): linear in the bound, whatever the caller sent. The regexes this replaces (` ?Did you mean .+\?$` here, Apollo's and graphql-armor's) backtrack
 * quadratically over caller text that repeats "Did you mean ": a 96 kB document cost seconds of CPU.
 */
export function clientMessage(message: string): string {
  const truncated = message.length > MAX_ERROR_MESSAGE_LENGTH;
  let text = truncated ? cut(message) : message;
  const suggestion = text.indexOf(SUGGESTION);
  if (suggestion >= 0) text = text.slice(0, suggestion).trimEnd();
  return truncated ? text + TRUNCATED_MARK : text;
}

/**
 * A message bounded like clientMessage's, with nothing else cut: for userErrors, whose messages are Keywarden's
 * own (no schema suggestions) but quote the caller's values.
 */
export function boundedMessage(message: string): string {
  return message.length > MAX_ERROR_MESSAGE_LENGTH ? cut(message) + TRUNCATED_MARK : message;
}

function cut(message: string): string {
  const text = message.slice(0, MAX_ERROR_MESSAGE_LENGTH);
  // Never end on half a surrogate pair: JSON would carry a lone surrogate.
  return /[\uD800-\uDBFF]$/.test(text) ? text.slice(0, -1) : text;
}
