import { SpiffeIdError, type SpiffeIdErrorCode } from '../errors.js';
import { RULES, TrustDomain, isTrustDomainChar } from './trust-domain.js';

const SCHEME = 'spiffe://';

/** SPIFFE-ID spec §2.2: path segment characters are letters, digits, `.`, `-`, `_`. */
function isPathSegmentChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x2e ||
    c === 0x2d ||
    c === 0x5f
  );
}

function fail(code: SpiffeIdErrorCode, rule: string, value: string): never {
  throw new SpiffeIdError(code, `${rule}: ${JSON.stringify(value)}`);
}

/**
 * Checks a SPIFFE ID path (`''` or `/seg/seg`) exactly as go-spiffe's `ValidatePath` does.
 *
 * @throws {SpiffeIdError} with the code of the first broken rule; `value` names the whole input.
 */
export function validatePath(path: string, value: string = path): void {
  if (path === '') return;
  if (path.charCodeAt(0) !== 0x2f) fail('SPIFFE_ID_NO_LEADING_SLASH', RULES.noLeadingSlash, value);
  let segmentStart = 0;
  let i = 0;
  for (; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 0x2f) {
      const segment = path.slice(segmentStart, i);
      if (segment === '/') fail('SPIFFE_ID_EMPTY_SEGMENT', RULES.emptySegment, value);
      if (segment === '/.' || segment === '/..') fail('SPIFFE_ID_DOT_SEGMENT', RULES.dotSegment, value);
      segmentStart = i;
      continue;
    }
    if (!isPathSegmentChar(c)) fail('SPIFFE_ID_BAD_PATH_SEGMENT_CHAR', RULES.badPathSegmentChar, value);
  }
  const last = path.slice(segmentStart, i);
  if (last === '/') fail('SPIFFE_ID_TRAILING_SLASH', RULES.trailingSlash, value);
  if (last === '/.' || last === '/..') fail('SPIFFE_ID_DOT_SEGMENT', RULES.dotSegment, value);
}

/** A SPIFFE ID, e.g. `spiffe://jia.app/contact-service`. Instances are always valid. */
export class SpiffeId {
  readonly trustDomain: TrustDomain;
  /** The path, `''` for the trust domain's own ID, otherwise starting with `/`. */
  readonly path: string;
  readonly #text: string;

  /** Use {@link parseSpiffeId}; the constructor trusts its input. */
  constructor(trustDomain: TrustDomain, path: string) {
    this.trustDomain = trustDomain;
    this.path = path;
    this.#text = `${SCHEME}${trustDomain.name}${path}`;
  }

  /** True when the ID names a workload rather than the trust domain itself (non-root path). */
  get hasPath(): boolean {
    return this.path !== '';
  }

  /** True when this ID belongs to `trustDomain`. */
  memberOf(trustDomain: TrustDomain): boolean {
    return this.trustDomain.equals(trustDomain);
  }

  equals(other: SpiffeId): boolean {
    return this.#text === other.#text;
  }

  /** The canonical ID, `spiffe://<trust domain><path>`. */
  toString(): string {
    return this.#text;
  }

  toJSON(): string {
    return this.#text;
  }
}

/**
 * Parses a SPIFFE ID exactly per the SPIFFE-ID spec as go-spiffe's `spiffeid.FromString` applies it:
 * lowercase `spiffe://` scheme, a non-empty trust domain of `[a-z0-9._-]`, and a path of
 * `[a-zA-Z0-9._-]` segments with no empty, `.` or `..` segment and no trailing slash. Query,
 * fragment, port, userinfo and percent-encoding are all rejected by those character rules.
 *
 * @throws {SpiffeIdError} with the code of the first broken rule and the input in its message.
 */
export function parseSpiffeId(text: string): SpiffeId {
  if (text === '') fail('SPIFFE_ID_EMPTY', RULES.empty, text);
  if (!text.startsWith(SCHEME)) fail('SPIFFE_ID_WRONG_SCHEME', RULES.wrongScheme, text);
  let pathStart = SCHEME.length;
  for (; pathStart < text.length; pathStart++) {
    const c = text.charCodeAt(pathStart);
    if (c === 0x2f) break;
    if (!isTrustDomainChar(c)) fail('SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR', RULES.badTrustDomainChar, text);
  }
  if (pathStart === SCHEME.length) fail('SPIFFE_ID_MISSING_TRUST_DOMAIN', RULES.missingTrustDomain, text);
  const path = text.slice(pathStart);
  validatePath(path, text);
  return new SpiffeId(new TrustDomain(text.slice(SCHEME.length, pathStart)), path);
}

/**
 * Builds a SPIFFE ID from a trust domain and path segments, e.g. `('jia.app', 'ns', 'svc')`.
 *
 * @throws {SpiffeIdError} when a segment breaks the path rules.
 */
export function spiffeIdFromSegments(trustDomain: TrustDomain, ...segments: string[]): SpiffeId {
  const path = segments.map((s) => `/${s}`).join('');
  validatePath(path, `${SCHEME}${trustDomain.name}${path}`);
  return new SpiffeId(trustDomain, path);
}
