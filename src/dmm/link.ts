/**
 * Finds the `rel="next"` target in an RFC 8288 `Link` header, e.g.
 * `</api/access?p=1>; rel="next", </api/access?p=0>; rel="prev"`.
 * `rel` may hold several space-separated relation types and is case-insensitive.
 * Returns the reference as written (possibly relative); the caller resolves it.
 */
export function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  // Split on commas that start a new `<...>` link-value; a URL may itself contain commas.
  for (const linkValue of header.split(/,\s*(?=<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/s.exec(linkValue);
    if (!match) continue;
    const [, target, params] = match;
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(params ?? '');
    const relations = (rel?.[1] ?? rel?.[2] ?? '').toLowerCase().split(/\s+/);
    if (relations.includes('next')) return target;
  }
  return undefined;
}
