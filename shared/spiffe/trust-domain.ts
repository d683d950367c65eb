import { SpiffeIdError } from '../errors.js';
import { parseSpiffeId, SpiffeId } from './spiffe-id.js';

/** go-spiffe's wording for each broken rule, so messages read the same across the mesh. */
export const RULES = {
  empty: 'cannot be empty',
  wrongScheme: 'scheme is missing or invalid',
  missingTrustDomain: 'trust domain is missing',
  badTrustDomainChar:
    'trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores',
  noLeadingSlash: 'path must have a leading slash',
  emptySegment: 'path cannot contain empty segments',
  dotSegment: 'path cannot contain dot segments',
  badPathSegmentChar:
    'path segment characters are limited to letters, numbers, dots, dashes, and underscores',
  trailingSlash: 'path cannot have a trailing slash',
} as const;

/** SPIFFE-ID spec §2.1: lowercase letters, digits, `.`, `-`, `_`. No port, userinfo or percent-encoding. */
export function isTrustDomainChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x2e || // .
    c === 0x2d || // -
    c === 0x5f // _
  );
}

/** A SPIFFE trust domain, e.g. `jia.app`. Instances are always valid. */
export class TrustDomain {
  /** The trust domain name, e.g. `jia.app`. */
  readonly name: string;

  /** Use {@link parseTrustDomain}; the constructor trusts its input. */
  constructor(name: string) {
    this.name = name;
  }

  /** The trust domain's own SPIFFE ID, `spiffe://<name>`, e.g. the key of a federated bundle. */
  id(): SpiffeId {
    return parseSpiffeId(`spiffe://${this.name}`);
  }

  /** `spiffe://<name>`, the form SPIRE uses to key federated bundles. */
  idString(): string {
    return `spiffe://${this.name}`;
  }

  equals(other: TrustDomain): boolean {
    return this.name === other.name;
  }

  toString(): string {
    return this.name;
  }

  toJSON(): string {
    return this.name;
  }
}

/**
 * Parses a trust domain given bare (`jia.app`) or as any SPIFFE ID in it (`spiffe://jia.app/x`).
 *
 * @throws {SpiffeIdError} `SPIFFE_ID_MISSING_TRUST_DOMAIN` for empty input,
 *   `SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR` for a character outside `[a-z0-9._-]`, or any code of
 *   {@link parseSpiffeId} when the input looks like an ID.
 */
export function parseTrustDomain(text: string): TrustDomain {
  if (text === '') {
    throw new SpiffeIdError('SPIFFE_ID_MISSING_TRUST_DOMAIN', `${RULES.missingTrustDomain}: ""`);
  }
  // Like go-spiffe, anything with a scheme separator is parsed as an ID; `:/` rather than `://`
  // gives the better diagnostic for `spiffe:/jia.app`.
  if (text.includes(':/')) {
    return parseSpiffeId(text).trustDomain;
  }
  for (let i = 0; i < text.length; i++) {
    if (!isTrustDomainChar(text.charCodeAt(i))) {
      throw new SpiffeIdError(
        'SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR',
        `${RULES.badTrustDomainChar}: ${JSON.stringify(text)}`,
      );
    }
  }
  return new TrustDomain(text);
}
