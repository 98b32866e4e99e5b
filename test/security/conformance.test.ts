/**
 * Public conformance vectors through our signature layer (see vectors.ts): Wycheproof's JWS and JWK sets
 * and the RFC 7520 / RFC 8037 / RFC 7797 examples; Wycheproof's raw EdDSA set through our key resolvers. Every case matches its expected result or is listed
 * below as a documented exception, with the reason and with our exact answer, so an exception cannot hide
 * a different failure and goes stale loudly if the behaviour changes.
 */
import assert from 'node:assert/strict';
import { KeyObject, createPublicKey, verify, webcrypto } from 'node:crypto';
import { describe, it } from 'node:test';
import { AuthConfigError, fromJwks, fromPem, type KeyResolver } from '../../src/index.ts';
import { importJwks } from '../../src/keys/jwk.ts';
import {
  ED25519_NON_CANONICAL,
  ED25519_SMALL_ORDER,
  compactOf,
  configureKeys,
  ed25519Flaw,
  loadVector,
  publicPart,
  verifyCompact,
  type Jwk,
  type Keys,
  type Verdict,
} from './vectors.ts';

type Expected = 'valid' | 'invalid';

/** A case whose expected result we do not give, and what we answer instead. */
interface Exception {
  /** Our verdict. */
  readonly ours: Expected;
  /** Our refusal code, when we refuse. */
  readonly code?: string;
  readonly reason: string;
}

const EMPTY_PAYLOAD: Exception = {
  ours: 'invalid',
  code: 'ERR_AUTH_TOKEN_MALFORMED',
  reason:
    'an empty payload segment is refused by the strict format check: a bearer JWT always carries a claims set (RFC 7519 §7.2), so an empty payload is never a token',
};
const FIGURE_20: Exception = {
  ours: 'invalid',
  code: 'ERR_AUTH_ALG_NOT_ALLOWED',
  reason:
    'vector defect: the key is published with alg PS256 but Figure 20 is a PS384 signature; a published alg pins the key to that algorithm (RFC 7517 §4.4). Figure 20 verifies in the cookbook set below, whose key has no alg',
};
const FIGURE_27: Exception = {
  ours: 'invalid',
  code: 'KEY_REFUSED',
  reason:
    'vector defect: the key is published with alg "ES521", which is not a JWS algorithm, so the key is skipped. Figure 27 (ES512) verifies in the cookbook set below',
};
const SAME_AS_VALID_MAC: Exception = {
  ours: 'valid',
  reason:
    'vector defect: the jws is byte-identical to tcId 357 (ValidMac), a correct MAC; the padding the name promises is not in the data. Padded segments are refused: see "derived cases"',
};
const STRAY_CHARACTER: Exception = {
  ours: 'invalid',
  code: 'ERR_AUTH_TOKEN_MALFORMED',
  reason:
    'a "?" inside a segment: strict base64url (RFC 7515 §2) refuses characters outside the alphabet. The MAC only matches if a decoder drops the "?" — the lenient parsing that gives one token several spellings',
};

/** Wycheproof json_web_signature_test.json, by tcId. */
const JWS_EXCEPTIONS = new Map<number, Exception>([
  ...[259, 264, 268, 272, 320, 325].map((id) => [id, EMPTY_PAYLOAD] as const),
  [346, FIGURE_20],
  [350, FIGURE_20],
  [347, FIGURE_27],
  [351, FIGURE_27],
  [367, SAME_AS_VALID_MAC],
  [370, SAME_AS_VALID_MAC],
  [372, STRAY_CHARACTER],
  [373, STRAY_CHARACTER],
]);

const AES_KEY_AS_SECRET: Exception = {
  ours: 'valid',
  reason:
    'fromSecret takes raw bytes: a JWK\'s alg ("A256GCM", "A256KW") is not something the library sees (fromJwks never takes oct keys, by design), so configuring an AES key as an HMAC secret is the user\'s choice and it verifies',
};

/** Wycheproof json_web_key_test.json, by tcId. */
const JWK_EXCEPTIONS = new Map<number, Exception>([
  [
    4,
    {
      ours: 'invalid',
      code: 'INEXPRESSIBLE',
      reason: 'fromSecret takes a map by kid, so a set with one kid twice cannot be configured: the ambiguity this case is about cannot arise',
    },
  ],
  [25, AES_KEY_AS_SECRET],
  [26, AES_KEY_AS_SECRET],
]);

async function verdictFor(token: unknown, keys: Keys | undefined): Promise<Verdict> {
  if (keys === undefined) return { accepted: false, code: 'INEXPRESSIBLE', why: 'key set cannot be configured' };
  // A JSON-serialized JWS is not a compact token: the compact-only format check refuses it.
  return verifyCompact(typeof token === 'string' ? token : JSON.stringify(token), keys);
}

/** Compares one case; returns a failure line, or undefined when it matches or is a precise exception. */
function judge(id: string, expected: Expected, verdict: Verdict, exception: Exception | undefined): string | undefined {
  const ours: Expected = verdict.accepted ? 'valid' : 'invalid';
  const code = verdict.accepted ? undefined : verdict.code;
  if (exception === undefined)
    return ours === expected ? undefined : `${id}: expected ${expected}, got ${ours} ${code ?? ''} ${verdict.accepted ? '' : verdict.why}`;
  if (ours !== exception.ours || code !== exception.code)
    return `${id}: documented exception says ${exception.ours} ${exception.code ?? ''}, got ${ours} ${code ?? ''}`;
  return undefined;
}

interface Tally {
  passed: number;
  exceptions: number;
  readonly failures: string[];
}

/** One diagnostic line per distinct exception: which cases, and why. */
function explain(t: { diagnostic(message: string): void }, exceptions: ReadonlyMap<number, Exception>): void {
  const byReason = new Map<Exception, number[]>();
  for (const [id, exception] of exceptions) byReason.set(exception, [...(byReason.get(exception) ?? []), id]);
  for (const [exception, ids] of byReason) t.diagnostic(`  exception tcId ${ids.join(', ')}: ${exception.reason}`);
}

function record(tally: Tally, failure: string | undefined, exception: Exception | undefined): void {
  if (failure !== undefined) tally.failures.push(failure);
  else if (exception !== undefined) tally.exceptions += 1;
  else tally.passed += 1;
}

describe('conformance: Wycheproof', () => {
  it('json_web_signature_test.json: 401 cases match or are documented exceptions', async (t) => {
    const file = loadVector('wycheproof/json_web_signature_test.json');
    const tally: Tally = { passed: 0, exceptions: 0, failures: [] };
    for (const group of file.testGroups) {
      // A verifier holds the public key; HMAC groups have only the secret.
      const keys = configureKeys([(group.public ?? group.private) as Jwk]);
      for (const test of group.tests) {
        const exception = JWS_EXCEPTIONS.get(test.tcId);
        const verdict = await verdictFor(test.jws, keys);
        record(tally, judge(`tcId ${test.tcId} ${group.comment}/${test.comment}`, test.result, verdict, exception), exception);
      }
    }
    t.diagnostic(`json_web_signature_test.json: ${tally.passed} passed, ${tally.exceptions} documented exceptions, ${tally.failures.length} failed`);
    assert.deepEqual(tally.failures, []);
    assert.equal(tally.passed + tally.exceptions, file.numberOfTests);
    explain(t, JWS_EXCEPTIONS);
    assert.equal(tally.exceptions, JWS_EXCEPTIONS.size);
  });

  it('json_web_key_test.json: 26 cases match or are documented exceptions', async (t) => {
    const file = loadVector('wycheproof/json_web_key_test.json');
    const tally: Tally = { passed: 0, exceptions: 0, failures: [] };
    for (const group of file.testGroups) {
      const keys = configureKeys((group.public ?? group.private).keys as Jwk[]);
      for (const test of group.tests) {
        const exception = JWK_EXCEPTIONS.get(test.tcId);
        const verdict = await verdictFor(test.jws, keys);
        record(tally, judge(`tcId ${test.tcId} ${group.comment}/${test.comment}`, test.result, verdict, exception), exception);
      }
    }
    t.diagnostic(`json_web_key_test.json: ${tally.passed} passed, ${tally.exceptions} documented exceptions, ${tally.failures.length} failed`);
    assert.deepEqual(tally.failures, []);
    assert.equal(tally.passed + tally.exceptions, file.numberOfTests);
    explain(t, JWK_EXCEPTIONS);
    assert.equal(tally.exceptions, JWK_EXCEPTIONS.size);
  });

  it('derived cases: the padding the defective tcIds 367/370 name is refused; so is each segment of a valid MAC padded or spaced', async () => {
    const file = loadVector('wycheproof/json_web_signature_test.json');
    const group = file.testGroups.find((g: any) => g.tests.some((test: any) => test.tcId === 357));
    const valid: string = group.tests.find((test: any) => test.tcId === 357).jws;
    const keys = configureKeys([group.private as Jwk]);
    assert.deepEqual(await verdictFor(valid, keys), { accepted: true });
    const [h, p, s] = valid.split('.') as [string, string, string];
    for (const token of [`${h}.${p}==.${s}`, `${h}.${p}.${s}=`, `${h}=.${p}.${s}`, `${h}.${p}.${s}\n`, ` ${h}.${p}.${s}`]) {
      const verdict = await verdictFor(token, keys);
      assert.equal(verdict.accepted ? 'accepted' : verdict.code, 'ERR_AUTH_TOKEN_MALFORMED', JSON.stringify(token));
    }
  });
});

/** One raw Ed25519 public key, as Wycheproof gives it. */
interface EddsaKey {
  /** The 32-byte encoding, hex. */
  readonly pk: string;
  readonly jwk: Jwk;
  readonly pem: string;
}

/** The key material a resolver hands to jose for an EdDSA token, or why the resolver refused the key. */
async function materialOf(configure: () => KeyResolver, kid: string | undefined): Promise<webcrypto.CryptoKey | { refused: string }> {
  let resolver: KeyResolver;
  try {
    resolver = configure();
  } catch (error) {
    if (error instanceof AuthConfigError) return { refused: error.message };
    throw error;
  }
  const keys = resolver.getKeys({ alg: 'EdDSA', kid });
  assert.ok(Array.isArray(keys) && keys.length === 1, 'a static resolver answers at once with the one key');
  const material = await keys[0]?.material('EdDSA');
  assert.equal(Object.prototype.toString.call(material), '[object CryptoKey]', 'public keys reach jose as CryptoKeys imported once');
  return material as webcrypto.CryptoKey;
}

/**
 * Whether `signature` verifies `message` under `material` the two ways it can be checked on node: node's
 * own `crypto.verify` (with the same key as a KeyObject), and WebCrypto with the CryptoKey jose is handed.
 * Both must agree.
 */
async function verifiesWith(material: webcrypto.CryptoKey, message: Buffer, signature: Buffer): Promise<boolean> {
  const byNode = verify(null, message, KeyObject.from(material), signature);
  const byWebCrypto = await webcrypto.subtle.verify({ name: 'Ed25519' }, material, signature, message);
  assert.equal(byNode, byWebCrypto, 'node and WebCrypto disagree');
  return byNode;
}

/**
 * Wycheproof ed25519_test.json, by tcId: cases whose expected result we do not give. None today: every
 * key of the file is an ordinary point, and the material we hand jose verifies exactly the valid cases.
 */
const EDDSA_EXCEPTIONS = new Map<number, Exception>();

describe('conformance: Wycheproof EdDSA (raw signatures through the key material of our resolvers)', () => {
  it('ed25519_test.json: 151 cases, each key imported as a JWK (fromJwks) and as SPKI (fromPem), match or are documented exceptions', async (t) => {
    const file = loadVector('wycheproof/ed25519_test.json');
    const tally: Tally = { passed: 0, exceptions: 0, failures: [] };
    const keys = new Map<string, { accepted: boolean; flaw: string | undefined }>();
    for (const group of file.testGroups) {
      const key: EddsaKey = { pk: group.publicKey.pk, jwk: group.publicKeyJwk, pem: group.publicKeyPem };
      assert.equal(createPublicKey(key.pem).export({ format: 'jwk' }).x, key.jwk.x, 'the group gives one key in both forms');
      const routes = [
        ['JWK', await materialOf(() => fromJwks({ keys: [key.jwk] }), String(key.jwk.kid))],
        ['PEM', await materialOf(() => fromPem(key.pem), undefined)],
      ] as const;
      const accepted = routes.map(([, material]) => !('refused' in material));
      assert.equal(accepted[0], accepted[1], `${key.pk}: fromJwks and fromPem must agree on the key`);
      keys.set(key.pk, { accepted: accepted[0] === true, flaw: ed25519Flaw(key.pk) });
      for (const test of group.tests) {
        const exception = EDDSA_EXCEPTIONS.get(test.tcId);
        const message = Buffer.from(test.msg, 'hex');
        const signature = Buffer.from(test.sig, 'hex');
        let failure: string | undefined;
        for (const [route, material] of routes) {
          // A refused key verifies nothing: no token can reach a signature check against it.
          const verdict: Verdict =
            'refused' in material
              ? { accepted: false, code: 'KEY_REFUSED', why: material.refused }
              : (await verifiesWith(material, message, signature))
                ? { accepted: true }
                : { accepted: false, code: 'SIGNATURE_INVALID', why: 'does not verify' };
          failure ??= judge(`tcId ${test.tcId} via ${route} ${test.comment} [${test.flags.join(', ')}]`, test.result, verdict, exception);
        }
        record(tally, failure, exception);
      }
    }
    // Keys refused must be exactly the small-order and non-canonical ones, by an independent judgement;
    // the file has none, so the derived keys of the key-hygiene vectors are run through the same check.
    for (const pk of [...Object.values(ED25519_SMALL_ORDER), ...Object.values(ED25519_NON_CANONICAL)]) {
      const jwk: Jwk = { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(pk, 'hex').toString('base64url') };
      const material = await materialOf(() => fromJwks({ keys: [jwk] }), undefined);
      keys.set(pk, { accepted: !('refused' in material), flaw: ed25519Flaw(pk) });
    }
    const wrong = [...keys]
      .filter(([, key]) => key.accepted !== (key.flaw === undefined))
      .map(([pk, key]) => `${pk}: ${key.accepted ? 'accepted' : 'refused'}, ${key.flaw ?? 'no flaw'}`);
    assert.deepEqual(wrong, []);
    const fileKeys = new Set(file.testGroups.map((group: { publicKey: { pk: string } }) => group.publicKey.pk));
    t.diagnostic(
      `ed25519_test.json: ${tally.passed} passed, ${tally.exceptions} documented exceptions, ${tally.failures.length} failed; ${fileKeys.size} distinct keys, all accepted; ${keys.size - fileKeys.size} small-order or non-canonical keys, all refused`,
    );
    assert.deepEqual(tally.failures, []);
    assert.equal(tally.passed + tally.exceptions, file.numberOfTests);
    explain(t, EDDSA_EXCEPTIONS);
    assert.equal(tally.exceptions, EDDSA_EXCEPTIONS.size);
  });
});

/** One RFC example: a token, the key that made it, what the RFC says, and our exception if any. */
interface CookbookCase {
  readonly name: string;
  readonly token: string;
  readonly key: Jwk;
  readonly exception?: Exception;
}

const NO_PROTECTED_HEADER: Exception = {
  ours: 'invalid',
  code: 'ERR_AUTH_TOKEN_MALFORMED',
  reason:
    'JSON serialization with an unprotected header only: no compact form exists (its header segment is empty). alg must be integrity-protected, or it could be swapped',
};
const B64_FALSE: Exception = {
  ours: 'invalid',
  code: 'ERR_AUTH_TOKEN_MALFORMED',
  reason:
    'b64:false (RFC 7797) is refused by design: the payload is not base64url, so the strict format check refuses it before the header check would (crit is refused too)',
};

function cookbookCases(): CookbookCase[] {
  const rfc = (file: string) => loadVector(`jose-cookbook/${file}`);
  const cases: CookbookCase[] = [];
  for (const [file, name] of [
    ['jws/4_1.rsa_v15_signature.json', 'RFC 7520 §4.1 RS256'],
    ['jws/4_2.rsa-pss_signature.json', 'RFC 7520 §4.2 PS384'],
    ['jws/4_3.ecdsa_signature.json', 'RFC 7520 §4.3 ES512'],
    ['jws/4_4.hmac-sha2_integrity_protection.json', 'RFC 7520 §4.4 HS256'],
    ['curve25519/jws.json', 'RFC 8037 §A.4 EdDSA (Ed25519)'],
  ] as const) {
    const example = rfc(file);
    // The JSON serializations carry the same signature: converted, they must give the same compact token.
    assert.equal(compactOf(example.output.json_flat.payload, example.output.json_flat), example.output.compact, name);
    assert.equal(compactOf(example.output.json.payload, example.output.json.signatures[0]), example.output.compact, name);
    cases.push({ name: `${name} (compact)`, token: example.output.compact, key: example.input.key });
  }
  const detached = rfc('jws/4_5.signature_with_detached_content.json');
  cases.push({
    name: 'RFC 7520 §4.5 detached content, as given',
    token: detached.output.compact,
    key: detached.input.key,
    exception: {
      ours: 'invalid',
      code: 'ERR_AUTH_TOKEN_MALFORMED',
      reason: 'detached content (RFC 7515 App. F): a bearer token must carry its payload; the empty payload segment is refused',
    },
  });
  const [dh, , ds] = (detached.output.compact as string).split('.');
  cases.push({
    name: 'RFC 7520 §4.5 detached content, payload reattached',
    token: `${dh}.${Buffer.from(detached.input.payload).toString('base64url')}.${ds}`,
    key: detached.input.key,
  });
  const headerFields = rfc('jws/4_6.protecting_specific_header_fields.json');
  cases.push({
    name: 'RFC 7520 §4.6 JSON only (kid unprotected) → compact',
    token: compactOf(headerFields.output.json.payload, headerFields.output.json.signatures[0]) as string,
    key: headerFields.input.key,
  });
  const contentOnly = rfc('jws/4_7.protecting_content_only.json');
  cases.push({
    name: 'RFC 7520 §4.7 JSON only, no protected header',
    token: `.${contentOnly.output.json.payload}.${contentOnly.output.json.signatures[0].signature}`,
    key: contentOnly.input.key,
    exception: NO_PROTECTED_HEADER,
  });
  const multiple = rfc('jws/4_8.multiple_signatures.json');
  multiple.output.json.signatures.forEach((signature: { protected?: string; signature: string }, index: number) => {
    const token = compactOf(multiple.output.json.payload, signature) ?? `.${multiple.output.json.payload}.${signature.signature}`;
    const exception = signature.protected === undefined ? NO_PROTECTED_HEADER : undefined;
    cases.push({ name: `RFC 7520 §4.8 multiple signatures, #${index} → compact`, token, key: multiple.input.key[index], ...(exception ? { exception } : {}) });
  });
  const b64Compact = rfc('rfc7797/hmac-sha2_b64_false.json');
  cases.push({ name: 'RFC 7797 §4.1 b64:false (compact)', token: b64Compact.output.compact, key: b64Compact.input.key, exception: B64_FALSE });
  const b64Json = rfc('rfc7797/4.2.hmac-sha2_b64_false.json');
  const sig = b64Json.output.json.signatures[0];
  cases.push({
    name: 'RFC 7797 §4.2 b64:false, JSON only',
    token: `${sig.protected}.${b64Json.output.json.payload}.${sig.signature}`,
    key: b64Json.input.key,
    exception: B64_FALSE,
  });
  return cases;
}

describe('conformance: RFC 7520 / RFC 8037 / RFC 7797 examples', () => {
  it('every example verifies or is a documented exception', async (t) => {
    const tally: Tally = { passed: 0, exceptions: 0, failures: [] };
    const cases = cookbookCases();
    for (const example of cases) {
      const verdict = await verdictFor(example.token, configureKeys([example.key]));
      record(tally, judge(example.name, 'valid', verdict, example.exception), example.exception);
      if (example.exception) t.diagnostic(`  exception ${example.name}: ${example.exception.reason}`);
    }
    t.diagnostic(`jose-cookbook JWS: ${tally.passed} passed, ${tally.exceptions} documented exceptions, ${tally.failures.length} failed`);
    assert.deepEqual(tally.failures, []);
    assert.equal(tally.passed + tally.exceptions, cases.length);
  });

  it('RFC 7520 §3 keys: public keys import with the algorithms of their type; private members are never held', async (t) => {
    const key = (file: string): Jwk => loadVector(`jose-cookbook/jwk/${file}`);
    const ecPublic = configureKeys([key('3_1.ec_public_key.json')]);
    const rsaPublic = configureKeys([key('3_3.rsa_public_key.json')]);
    assert.ok(ecPublic && 'resolver' in ecPublic && rsaPublic && 'resolver' in rsaPublic);
    assert.doesNotThrow(() => ecPublic.resolver.checkAlgorithms(['ES512'], 'algorithms'));
    assert.throws(() => ecPublic.resolver.checkAlgorithms(['ES256'], 'algorithms'), /algorithms/);
    assert.doesNotThrow(() => rsaPublic.resolver.checkAlgorithms(['RS256', 'PS384'], 'algorithms'));
    // The private key files: what a verifier holds of them is exactly the public key file.
    for (const [privateFile, publicFile] of [
      ['3_2.ec_private_key.json', '3_1.ec_public_key.json'],
      ['3_4.rsa_private_key.json', '3_3.rsa_public_key.json'],
    ] as const) {
      assert.deepEqual(publicPart(key(privateFile)), key(publicFile));
      const raw = importJwks({ keys: [key(privateFile)] });
      assert.equal(raw.keys.length, 0, `${privateFile} as given must be skipped`);
      assert.match(raw.skipped[0]?.reason ?? '', /private key material/);
    }
    // The symmetric key: never taken from a key set; as a secret it serves HS256 and verifies §4.4.
    const symmetric = key('3_5.symmetric_key_mac_computation.json');
    assert.equal(importJwks({ keys: [symmetric] }).keys.length, 0);
    const hs = loadVector('jose-cookbook/jws/4_4.hmac-sha2_integrity_protection.json');
    assert.deepEqual(await verdictFor(hs.output.compact, configureKeys([symmetric])), { accepted: true });
    t.diagnostic('jose-cookbook JWK: 5 keys checked');
  });
});
