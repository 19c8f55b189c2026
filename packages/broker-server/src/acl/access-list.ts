import { createHash, timingSafeEqual } from "node:crypto";
import { InvalidArgumentError, Role } from "@switchyard/protocol";
import type { CertificateIdentity } from "@switchyard/transport";

/** Every channel, in a `provide`/`consume` list or a deny list. */
export const ANY_CHANNEL = "*";

/**
 * One principal of an ACL document: who (a token, a client certificate, or both — then both must
 * match) and what it may do. Channels are UUID strings or `"*"`; a deny list wins over every allow.
 */
export interface AclPrincipal {
  /** Names the principal in logs and FORBIDDEN messages (never the token). */
  name: string;
  /** Hex SHA-256 of the token the client passes as `authToken` (`printf %s "$TOKEN" | sha256sum`). */
  tokenSha256?: string;
  /** A verified client certificate's subject: `"CN=name"`, or a SAN: `"DNS:name"`, `"URI:…"`, `"IP:…"`, `"email:…"`. */
  certSubject?: string;
  /** Channels it may register on as a provider. */
  provide?: string[];
  /** Channels it may register on as a consumer. */
  consume?: string[];
  /** Channels it may never provide, whatever any allow list says. */
  denyProvide?: string[];
  /** Channels it may never consume, whatever any allow list says. */
  denyConsume?: string[];
}

/** The ACL file's content (JSON or YAML): `{ principals: [...] }`. */
export interface AclDocument {
  principals: AclPrincipal[];
}

interface Principal {
  name: string;
  /** 32 bytes, or null when the principal names no token. */
  tokenDigest: Buffer | null;
  certSubject: string | null;
  provide: ReadonlySet<string>;
  consume: ReadonlySet<string>;
  denyProvide: ReadonlySet<string>;
  denyConsume: ReadonlySet<string>;
}

/** Who a connection is, for the ACL: its token's digest and its verified certificate. */
export interface Credentials {
  /** SHA-256 of the registration's auth token, or null when it carried none. */
  tokenDigest: Buffer | null;
  identity: CertificateIdentity | null;
}

/** What the ACL says about a registration. */
export type AclVerdict =
  | { allowed: true; principals: string[] }
  /** UNAUTHORIZED: no principal matches; FORBIDDEN: the principals may not do this. */
  | { allowed: false; code: "UNAUTHORIZED" | "FORBIDDEN"; message: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const LISTS = ["provide", "consume", "denyProvide", "denyConsume"] as const;
const KEYS = new Set(["name", "tokenSha256", "certSubject", ...LISTS]);
const SUBJECT = /^(CN=|DNS:|URI:|IP:|email:)./;

/** SHA-256 of a token, as the ACL compares it. */
export function tokenDigest(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}

/**
 * Per-channel permissions: which principals exist, how a connection is matched to them (token
 * digest compared in constant time; certificate subject CN or SAN) and what they may provide and
 * consume. A connection matching several principals has the union of their allows, minus the
 * union of their denies.
 */
export class AccessList {
  readonly #principals: readonly Principal[];

  private constructor(principals: Principal[]) {
    this.#principals = principals;
  }

  /** How many principals it names. */
  get size(): number {
    return this.#principals.length;
  }

  /**
   * Checks an ACL document and compiles it. Throws InvalidArgumentError naming `source` and the
   * field at fault (e.g. `principals[2].tokenSha256`).
   */
  static from(document: unknown, source = "acl"): AccessList {
    const fail = (where: string, why: string): never => {
      throw new InvalidArgumentError(`${source}: ${where} ${why}`);
    };
    if (document === null || typeof document !== "object" || !Array.isArray((document as AclDocument).principals)) {
      return fail("the document", 'must be an object with a "principals" list');
    }
    const names = new Set<string>();
    const principals = (document as AclDocument).principals.map((entry, index): Principal => {
      const at = `principals[${index}]`;
      if (entry === null || typeof entry !== "object") return fail(at, "must be an object");
      for (const key of Object.keys(entry)) {
        if (!KEYS.has(key)) fail(`${at}.${key}`, `is not a field (name, tokenSha256, certSubject, ${LISTS.join(", ")})`);
      }
      if (typeof entry.name !== "string" || entry.name === "") fail(`${at}.name`, "must be a non-empty string");
      if (names.has(entry.name)) fail(`${at}.name`, `${JSON.stringify(entry.name)} is used twice`);
      names.add(entry.name);
      let digest: Buffer | null = null;
      if (entry.tokenSha256 !== undefined) {
        if (typeof entry.tokenSha256 !== "string" || !/^[0-9a-fA-F]{64}$/.test(entry.tokenSha256)) {
          fail(`${at}.tokenSha256`, "must be 64 hex digits (the SHA-256 of the token)");
        }
        digest = Buffer.from(entry.tokenSha256, "hex");
      }
      if (entry.certSubject !== undefined && (typeof entry.certSubject !== "string" || !SUBJECT.test(entry.certSubject))) {
        fail(`${at}.certSubject`, 'must be "CN=name" or a SAN such as "DNS:name", "URI:…", "IP:…", "email:…"');
      }
      if (digest === null && entry.certSubject === undefined) fail(at, "names no tokenSha256 and no certSubject: nobody could match it");
      const lists = {} as Record<(typeof LISTS)[number], ReadonlySet<string>>;
      for (const list of LISTS) {
        const value = entry[list] ?? [];
        if (!Array.isArray(value)) fail(`${at}.${list}`, 'must be a list of channel UUIDs or "*"');
        lists[list] = new Set(
          value.map((channel, position) => {
            const normal = typeof channel === "string" ? channel.toLowerCase() : "";
            if (normal !== ANY_CHANNEL && !UUID.test(normal)) fail(`${at}.${list}[${position}]`, `must be a channel UUID or "*", got ${JSON.stringify(channel)}`);
            return normal;
          }),
        );
      }
      return { name: entry.name, tokenDigest: digest, certSubject: entry.certSubject ?? null, ...lists };
    });
    return new AccessList(principals);
  }

  /** Decides whether a connection with `credentials` may register as `role` on `channelId` (UUID string). */
  decide(credentials: Credentials, role: Role, channelId: string): AclVerdict {
    const matched = this.#match(credentials);
    if (matched.length === 0) {
      return { allowed: false, code: "UNAUTHORIZED", message: "registration refused: no ACL principal matches this token or client certificate" };
    }
    const provider = role === Role.PROVIDER;
    const channel = channelId.toLowerCase();
    const has = (list: ReadonlySet<string>) => list.has(channel) || list.has(ANY_CHANNEL);
    const allowed = matched.some((principal) => has(provider ? principal.provide : principal.consume));
    const denied = matched.some((principal) => has(provider ? principal.denyProvide : principal.denyConsume));
    const names = matched.map((principal) => principal.name);
    if (allowed && !denied) return { allowed: true, principals: names };
    const who = names.map((name) => JSON.stringify(name)).join(", ");
    return {
      allowed: false,
      code: "FORBIDDEN",
      message: `registration refused: principal ${who} may not ${provider ? "provide" : "consume"} on channel ${channel}${denied ? " (denied)" : ""}`,
    };
  }

  /** The principals `credentials` match. Compares every token digest, in constant time each. */
  #match(credentials: Credentials): Principal[] {
    const { tokenDigest: digest, identity } = credentials;
    const matched: Principal[] = [];
    for (const principal of this.#principals) {
      let tokenOk = principal.tokenDigest === null;
      if (principal.tokenDigest !== null && digest !== null) tokenOk = timingSafeEqual(principal.tokenDigest, digest);
      const certOk = principal.certSubject === null || (identity !== null && subjectMatches(principal.certSubject, identity));
      if (tokenOk && certOk) matched.push(principal);
    }
    return matched;
  }
}

function subjectMatches(subject: string, identity: CertificateIdentity): boolean {
  if (subject.startsWith("CN=")) return identity.commonName !== "" && identity.commonName === subject.slice(3);
  return identity.altNames.includes(subject);
}
