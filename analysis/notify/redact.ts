// Redaction of notification secrets (webhook URL paths, tokens, proxy passwords) from anything that is logged
// or reported: webhook URLs carry their credentials in the path, so only scheme and host may be shown.

const REDACTED = '[redacted]';
/** Shorter strings (e.g. the path '/') are not secrets and replacing them would garble the text. */
const MIN_SECRET_LENGTH = 4;

/** Returns a function that replaces every occurrence of each secret (raw or URL-encoded) with [redacted]. */
export function makeScrubber(secrets: ReadonlyArray<string | undefined>): (text: string) => string {
  const variants = new Set<string>();
  for (const s of secrets) {
    if (!s || s.length < MIN_SECRET_LENGTH) continue;
    variants.add(s);
    variants.add(encodeURIComponent(s));
    variants.add(JSON.stringify(s).slice(1, -1));
  }
  // Longest first, so a full URL is replaced before its path would split it.
  const ordered = [...variants]
    .filter((v) => v.length >= MIN_SECRET_LENGTH)
    .sort((a, b) => b.length - a.length);
  return (text) => ordered.reduce((t, secret) => t.split(secret).join(REDACTED), text);
}

/** The URL as it may be logged: scheme and host only, e.g. `https://hooks.slack.com/[redacted]`. */
export function endpointLabel(url: URL): string {
  const hasSecretPart = url.pathname.length > 1 || url.search !== '' || url.username !== '';
  return hasSecretPart ? `${url.protocol}//${url.host}/${REDACTED}` : `${url.protocol}//${url.host}`;
}
