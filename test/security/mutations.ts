/**
 * Token mutations for the fuzz tests, as fast-check arbitraries: bit flips, character edits, insertions,
 * deletions, segment swaps and transplants, and header/payload JSON edits re-encoded and re-signed with
 * keys the verifier does not trust (or not re-signed at all). A mutation is data, so fast-check can shrink
 * a failing case to the smallest edit and print it.
 */
import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import fc from 'fast-check';

/** Keys an attacker holds: none is trusted by any fuzz subject. `publicPem` is the trusted public key, for HS confusion. */
export interface AttackerKeys {
  readonly secret: Buffer;
  readonly rsa: KeyObject;
  readonly ec: KeyObject;
  readonly publicPem: string | undefined;
}

export function attackerKeys(publicPem: string | undefined): AttackerKeys {
  return {
    secret: Buffer.from('attacker-secret-attacker-secret-attacker-secret!!'),
    rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
    ec: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
    publicPem,
  };
}

/** How a JSON-edited token gets its signature. */
export type Resign = 'keep' | 'empty' | 'hmac-attacker' | 'hmac-public-key' | 'rsa-attacker' | 'ec-attacker';

/** One edit of a decoded JSON object. */
export type JsonEdit = { readonly op: 'set'; readonly name: string; readonly value: unknown } | { readonly op: 'delete'; readonly name: string };

export type Mutation =
  | { readonly kind: 'bit-flip'; readonly segment: number; readonly bit: number }
  | { readonly kind: 'char'; readonly index: number; readonly char: string }
  | { readonly kind: 'insert'; readonly index: number; readonly text: string }
  | { readonly kind: 'delete'; readonly index: number; readonly length: number }
  | { readonly kind: 'segments'; readonly order: readonly number[]; readonly donor: number; readonly fromDonor: readonly boolean[] }
  | { readonly kind: 'json'; readonly part: 'header' | 'payload'; readonly edits: readonly JsonEdit[]; readonly resign: Resign };

const HEADER_NAMES = ['alg', 'kid', 'typ', 'crit', 'b64', 'jku', 'jwk', 'x5u', 'x5c', 'cty', 'zip', 'enc', '__proto__', 'constructor'];
const PAYLOAD_NAMES = ['exp', 'nbf', 'iat', 'iss', 'aud', 'sub', 'jti', 'scope', 'scp', 'roles', '__proto__', 'constructor', 'toString'];
const ALGS = ['none', 'None', 'HS256', 'HS384', 'HS512', 'RS256', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA', 'A256GCM', ''];
const TOKEN_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \t\n\u0000\u00e9\u2028\ud83d';

/** A JSON value a forger would try: registered-claim-looking values, extremes, and anything fast-check makes. */
const jsonValue = fc.oneof(
  fc.constantFrom<unknown>(null, true, false, 0, -1, 1e21, 2 ** 53, 9_999_999_999, '', 'none', '9999999999', [], {}, ['a'], [[]], { a: 1 }),
  fc.constantFrom(...ALGS),
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.string({ maxLength: 20 }),
  fc.jsonValue({ maxDepth: 3 }),
);

function jsonEdit(names: readonly string[]): fc.Arbitrary<JsonEdit> {
  const name = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...names) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) });
  return fc.oneof(fc.record({ op: fc.constant('set' as const), name, value: jsonValue }), fc.record({ op: fc.constant('delete' as const), name }));
}

/** One mutation of any kind. */
export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('bit-flip' as const), segment: fc.integer({ min: 0, max: 2 }), bit: fc.nat() }),
  fc.record({ kind: fc.constant('char' as const), index: fc.nat(), char: fc.constantFrom(...TOKEN_CHARS) }),
  fc.record({
    kind: fc.constant('insert' as const),
    index: fc.nat(),
    text: fc.oneof(fc.string({ minLength: 1, maxLength: 8 }), fc.constantFrom('.', '..', '=', '==', ' ', 'eyJ', 'A', '\u0000')),
  }),
  fc.record({ kind: fc.constant('delete' as const), index: fc.nat(), length: fc.integer({ min: 1, max: 12 }) }),
  fc.record({
    kind: fc.constant('segments' as const),
    order: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 4 }),
    donor: fc.nat(),
    fromDonor: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
  }),
  fc.oneof(
    fc.record({
      kind: fc.constant('json' as const),
      part: fc.constant('header' as const),
      edits: fc.array(jsonEdit(HEADER_NAMES), { minLength: 1, maxLength: 3 }),
      resign: fc.constantFrom<Resign>('keep', 'empty', 'hmac-attacker', 'hmac-public-key', 'rsa-attacker', 'ec-attacker'),
    }),
    fc.record({
      kind: fc.constant('json' as const),
      part: fc.constant('payload' as const),
      edits: fc.array(jsonEdit(PAYLOAD_NAMES), { minLength: 1, maxLength: 3 }),
      resign: fc.constantFrom<Resign>('keep', 'empty', 'hmac-attacker', 'hmac-public-key', 'rsa-attacker', 'ec-attacker'),
    }),
  ),
);

/** One to three mutations applied in order. */
export const mutations = fc.array(mutation, { minLength: 1, maxLength: 3 });

const HASH: Readonly<Record<string, string>> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512', RS256: 'sha256', RS512: 'sha512', ES256: 'sha256' };

function decodeObject(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? { ...value } : undefined;
  } catch {
    return undefined;
  }
}

function resignature(input: string, alg: unknown, resign: Resign, keys: AttackerKeys, old: string): string {
  const algorithm = typeof alg === 'string' ? alg : 'HS256';
  const hash = HASH[algorithm] ?? 'sha256';
  switch (resign) {
    case 'keep':
      return old;
    case 'empty':
      return '';
    case 'hmac-attacker':
      return createHmac(hash, keys.secret).update(input).digest('base64url');
    case 'hmac-public-key':
      return createHmac(hash, keys.publicPem ?? keys.secret)
        .update(input)
        .digest('base64url');
    case 'rsa-attacker':
      return sign(hash, Buffer.from(input), keys.rsa).toString('base64url');
    case 'ec-attacker':
      return sign(hash, Buffer.from(input), { key: keys.ec, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  }
}

function editJson(token: string, edit: Extract<Mutation, { kind: 'json' }>, keys: AttackerKeys): string {
  const segments = token.split('.');
  const index = edit.part === 'header' ? 0 : 1;
  const object = decodeObject(segments[index] ?? '') ?? {};
  for (const change of edit.edits) {
    // defineProperty, not assignment: `__proto__` must become an own JSON member, as a forger would send it.
    if (change.op === 'set') Object.defineProperty(object, change.name, { value: change.value, enumerable: true, writable: true, configurable: true });
    else delete object[change.name];
  }
  segments[index] = Buffer.from(JSON.stringify(object) ?? '').toString('base64url');
  const header = decodeObject(segments[0] ?? '') ?? {};
  const input = `${segments[0] ?? ''}.${segments[1] ?? ''}`;
  return `${input}.${resignature(input, header.alg, edit.resign, keys, segments[2] ?? '')}`;
}

/** Applies one mutation to a token; `donors` are other valid tokens for transplants. */
export function applyMutation(token: string, change: Mutation, donors: readonly string[], keys: AttackerKeys): string {
  const at = (index: number, length: number) => (length === 0 ? 0 : index % (length + 1));
  switch (change.kind) {
    case 'bit-flip': {
      const segments = token.split('.');
      const segment = segments[change.segment % segments.length] ?? '';
      const bytes = Buffer.from(segment, 'base64url');
      if (bytes.length === 0) return token;
      const position = Math.floor(change.bit / 8) % bytes.length;
      bytes[position] = (bytes[position] ?? 0) ^ (1 << (change.bit % 8));
      segments[change.segment % segments.length] = bytes.toString('base64url');
      return segments.join('.');
    }
    case 'char': {
      const index = token.length === 0 ? 0 : change.index % token.length;
      return token.slice(0, index) + change.char + token.slice(index + 1);
    }
    case 'insert': {
      const index = at(change.index, token.length);
      return token.slice(0, index) + change.text + token.slice(index);
    }
    case 'delete': {
      const index = at(change.index, token.length);
      return token.slice(0, index) + token.slice(index + change.length);
    }
    case 'segments': {
      const own = token.split('.');
      const donor = (donors[change.donor % Math.max(donors.length, 1)] ?? token).split('.');
      return change.order.map((index, position) => (change.fromDonor[position] ? donor : own)[index] ?? '').join('.');
    }
    case 'json':
      return editJson(token, change, keys);
  }
}

/** Authorization metadata values a client could send: bearer-ish prefixes around mutated or random text. */
export const authorizationValue = (token: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.oneof(
    fc
      .tuple(
        fc.constantFrom('Bearer ', 'bearer ', 'BEARER ', 'Bearer  ', 'Bearer', 'Basic ', 'Bearer\t', 'Token ', '', ' Bearer '),
        token,
        fc.constantFrom('', ' ', ',', ', Bearer x', '\t'),
      )
      .map(([prefix, text, suffix]) => `${prefix}${text}${suffix}`),
    fc.string({ maxLength: 64, unit: 'binary-ascii' }),
  );
