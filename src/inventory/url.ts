/**
 * A server URL as the report shows it: without the parts that carry credentials. User info
 * (`user:token@`) becomes `[userinfo]@`, and the query and fragment are dropped (API keys often
 * ride in `?key=`). Scheme, host, port and path stay as written: they are what check matches,
 * with the service's own normalisation (src/core/normalise.ts), and what a review approves.
 *
 * The authority is taken to run to the first `/` (not `?` or `#`), so that a `?` or `#` inside
 * a password cannot hide the `@` after it. A string that is not an absolute URL (a client
 * variable such as `${input:url}`, a bare host) keeps its text before the first `?` or `#`,
 * with anything before an `@` in it replaced likewise. Pure.
 */
import { withoutUserinfo } from '../core/normalise.js';

const ABSOLUTE = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/]*)(.*)$/s;

/** The URL with user info replaced and query and fragment removed. */
export function toReportedUrl(raw: string): string {
  const absolute = ABSOLUTE.exec(raw);
  if (absolute === null) return withoutUserinfo(cutQuery(raw));
  const [, scheme = '', authority = '', rest = ''] = absolute;
  const host = authority.includes('@') ? withoutUserinfo(authority) : authority;
  return cutQuery(`${scheme}${host}${rest}`);
}

function cutQuery(text: string): string {
  const cut = text.search(/[?#]/);
  return cut < 0 ? text : text.slice(0, cut);
}
