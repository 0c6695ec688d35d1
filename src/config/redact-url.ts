// The one place that decides what of a target URL may leave the process. `https://user:pass@host`
// and `?api_key=…` carry credentials; logs, the comment, the summary, the report JSON and the
// baseline history (public to fork PRs) only ever see the redacted form. Pure.

/** What replaces a secret: the shape of the URL stays readable. */
export const REDACTED = '***';

/**
 * Masking a two-character query value (`?page=2`) would blank every `2` in the job log, so
 * only parts this long are handed to the runner's masker (as SECRET_INPUTS lines are). Shorter
 * ones are still redacted everywhere loadgate prints a URL.
 */
const MIN_MASKED_CHARS = 4;

/** A URL with a host: its userinfo, query and fragment are where the parser found them. */
function parsedWithHost(url: string): URL | undefined {
  try {
    const value = new URL(url);
    return value.host ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Text that is no URL with a host, split where a URL's parts would be. The userinfo runs to the
 * last `@`: a password holding `/`, `?` or `#` ends the authority early for a parser, which then
 * fails (`https://deploy:pa/ss@host`) or finds no host (`deploy:pass@host`, scheme `deploy:`).
 * The query and fragment start at the first `?` or `#` after it.
 */
function unparsedParts(text: string) {
  const scheme = /^[^:/?#]*:\/\//.exec(text)?.[0] ?? '';
  const rest = text.slice(scheme.length);
  const at = rest.lastIndexOf('@');
  const userinfo = at < 0 ? '' : rest.slice(0, at);
  const colon = userinfo.indexOf(':');
  const afterUserinfo = rest.slice(at + 1);
  const queryStart = afterUserinfo.search(/[?#]/);
  const tail = queryStart < 0 ? '' : afterUserinfo.slice(queryStart);
  const hashStart = tail.indexOf('#');
  return {
    scheme,
    hasUserinfo: at >= 0,
    address: queryStart < 0 ? afterUserinfo : afterUserinfo.slice(0, queryStart),
    tail,
    username: colon < 0 ? userinfo : userinfo.slice(0, colon),
    password: colon < 0 ? '' : userinfo.slice(colon + 1),
    search: hashStart < 0 ? tail : tail.slice(0, hashStart),
    hash: hashStart < 0 ? '' : tail.slice(hashStart),
  };
}

/** `a=1&token` → `a=***&***`: every value, and a bare part (often a token itself). */
function redactedQuery(search: string): string {
  if (search.length <= 1) return search;
  const parts = search
    .slice(1)
    .split('&')
    .map((part) => {
      if (part === '') return part;
      const equals = part.indexOf('=');
      if (equals < 0) return REDACTED;
      return equals === part.length - 1 ? part : `${part.slice(0, equals + 1)}${REDACTED}`;
    });
  return `?${parts.join('&')}`;
}

/**
 * `https://user:pass@host/p?api_key=k#f` → `https://***@host/p?api_key=***#***`. A URL without
 * userinfo, query or fragment comes back unchanged (so stored baselines of such URLs still
 * match). Text that is not a URL is cut where a URL's secrets would start.
 */
export function redactedUrl(url: string): string {
  const value = parsedWithHost(url);
  if (!value) return redactedUnparsable(url);
  if (!value.username && !value.password && !value.search && !value.hash) return url;
  const userinfo = value.username || value.password ? `${REDACTED}@` : '';
  const hash = value.hash.length > 1 ? `#${REDACTED}` : value.hash;
  return `${value.protocol}//${userinfo}${value.host}${value.pathname}${redactedQuery(value.search)}${hash}`;
}

/** A rejected input is echoed: whatever could be userinfo or a query goes. */
function redactedUnparsable(text: string): string {
  const parts = unparsedParts(text);
  const userinfo = parts.hasUserinfo ? `${REDACTED}@` : '';
  return `${parts.scheme}${userinfo}${parts.address}${parts.tail ? `${parts.tail[0]}${REDACTED}` : ''}`;
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/**
 * The substrings of `url` to register with the runner's masker (`core.setSecret`) and to cut
 * from error messages: user and password, each query value, the fragment; as written and
 * percent-decoded. Text that is not a URL gives what would be those parts, so a URL refused as
 * malformed is masked too. Empty for a URL without any.
 */
export function urlSecrets(url: string): string[] {
  const value = parsedWithHost(url) ?? unparsedParts(url);
  const queryValues = value.search
    .slice(1)
    .split('&')
    .map((part) => (part.includes('=') ? part.slice(part.indexOf('=') + 1) : part));
  const parts = [value.username, value.password, ...queryValues, value.hash.slice(1)];
  const secrets = parts.flatMap((part) => [part, decoded(part)]).filter((secret) => secret.length >= MIN_MASKED_CHARS);
  return [...new Set(secrets)];
}

/** Header names whose values are credentials by convention (`Authorization`, `Cookie`, `X-Api-Key`, …). */
const CREDENTIAL_HEADER = /^(?:proxy-)?authorization$|^cookie$|token|secret|api-?key|password|session|auth/i;

/** Whether a header's value is a credential, by the header's name: masked, never shown. */
export function isCredentialHeader(name: string): boolean {
  return CREDENTIAL_HEADER.test(name);
}

/**
 * The values of credential headers, to mask: `Bearer abc…` whole and its token alone, since a
 * library's error may quote either. Other header values are ordinary words (`application/json`)
 * whose masking would blank the job log.
 */
export function headerSecrets(headers: Readonly<Record<string, string>>): string[] {
  const values = Object.entries(headers)
    .filter(([name]) => isCredentialHeader(name))
    .flatMap(([, value]) => [value, value.replace(/^\S+\s+/, '')]);
  return [...new Set(values.filter((secret) => secret.length >= MIN_MASKED_CHARS))];
}

/** `text` with every secret replaced, longest first (so a password never shows through its user's mask). */
export function withoutSecrets(text: string, secrets: readonly string[]): string {
  return [...secrets].sort((a, b) => b.length - a.length).reduce((result, secret) => result.split(secret).join(REDACTED), text);
}
