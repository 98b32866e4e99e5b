/**
 * The fresh-token path after issue 16: fewer async layers, the context as a frozen class, revocation ids
 * computed only when a store holds entries, public keys handed to jose as CryptoKeys imported once. Each
 * behaviour the rewrite could have changed is pinned here.
 */
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { createAuthenticator, type KeyResolver } from '../../src/index.ts';
import { StaticKeyResolver } from '../../src/keys/static-resolver.ts';
import { PublicVerificationKey } from '../../src/keys/verification-key.ts';
import { deferredTokenLookup, tokenLookup } from '../../src/stores/revocation-keys.ts';
import { createTestIssuer } from '../../src/testing/index.ts';
import { VerificationLimit } from '../../src/verify/verification-limit.ts';
import { countingKeys } from '../support/counting-keys.ts';

const METHOD = '/test.v1.S/M';

/** A compact ES256 token signed with `privateKey`, header as given (no library code involved). */
function es256Token(privateKey: KeyObject, claims: Record<string, unknown>): string {
  const input = `${Buffer.from(JSON.stringify({ alg: 'ES256' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

describe('fresh-token path', () => {
  it('a resolver answering with a promise is asked once per verification, and its keys verify', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const keys = countingKeys(idp.keys, 'promise');
    const authenticator = createAuthenticator({ keys, algorithms: ['ES256'], cache: false });
    const { context } = await authenticator.authenticate(await idp.sign({ sub: 'alice' }), METHOD);
    assert.equal(context.subject, 'alice');
    assert.equal(keys.lookups, 1);
    await assert.rejects(authenticator.authenticate(`${(await idp.sign()).slice(0, -4)}AAAA`, METHOD), { code: 'ERR_AUTH_SIGNATURE_INVALID' });
    assert.equal(keys.lookups, 2, 'a refused token was looked up once too');
  });

  it('a resolver whose promise rejects refuses with its own AuthError, asked once', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    let lookups = 0;
    const keys: KeyResolver = {
      kind: 'secret',
      description: 'failing',
      checkAlgorithms: () => undefined,
      getKeys: () => {
        lookups += 1;
        return Promise.reject(Object.assign(new Error('down'), { name: 'Error' }));
      },
      holds: () => false,
    };
    const authenticator = createAuthenticator({ keys, algorithms: ['HS256'], cache: false });
    await assert.rejects(authenticator.authenticate(await idp.sign(), METHOD), { code: 'ERR_AUTH_INTERNAL' });
    assert.equal(lookups, 1);
  });

  it('the context: frozen, a fresh Date on every read, a frozen prototype, JSON with every field', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const authenticator = createAuthenticator({ keys: idp.keys, algorithms: ['HS256'] });
    const token = await idp.sign({ sub: 'alice', scope: 'a b' }, { expiresIn: 600 });
    const { context } = await authenticator.authenticate(token, METHOD);
    assert.ok(Object.isFrozen(context));
    const prototype = Object.getPrototypeOf(context) as object;
    assert.ok(Object.isFrozen(prototype), 'no handler can redefine a getter every context inherits');
    assert.throws(() => Object.defineProperty(prototype, 'expiresAt', { get: () => new Date(8.64e15) }), TypeError);
    const expiresAt = context.expiresAt as Date;
    assert.ok(expiresAt instanceof Date);
    assert.notEqual(context.expiresAt, expiresAt, 'a new Date on every read');
    expiresAt.setTime(0);
    assert.equal(context.expiresAt?.getTime(), (context.claims.exp as number) * 1000);
    assert.equal(context.issuedAt?.getTime(), (context.claims.iat as number) * 1000);
    // A cache hit shares the context: still frozen, still fresh Dates.
    const hit = await authenticator.authenticate(token, METHOD);
    assert.equal(hit.context, context);
    assert.notEqual(hit.context.expiresAt, context.expiresAt);
    const json = JSON.parse(JSON.stringify(context)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(json), ['subject', 'issuer', 'audience', 'scopes', 'roles', 'expiresAt', 'issuedAt', 'claims', 'header', 'token', 'tokenId']);
    assert.equal(json.expiresAt, new Date((context.claims.exp as number) * 1000).toISOString());
    assert.deepEqual(json.scopes, ['a', 'b']);
  });

  it('a context without exp or iat reads both as undefined', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const authenticator = createAuthenticator({ keys: idp.keys, algorithms: ['HS256'], requireExp: false });
    const { context } = await authenticator.authenticate(await idp.signRaw(JSON.stringify({ sub: 'bob' })), METHOD);
    assert.equal(context.expiresAt, undefined);
    assert.equal(context.issuedAt, undefined);
  });

  it('a public key is imported into WebCrypto once per algorithm; later calls get the CryptoKey at once', async () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const key = new PublicVerificationKey(publicKey, 'k', new Set(['ES256']));
    const first = key.material('ES256');
    assert.ok(first instanceof Promise);
    assert.equal(key.material('ES256'), first, 'concurrent first calls share one import');
    const imported = await first;
    assert.equal(Object.prototype.toString.call(imported), '[object CryptoKey]');
    assert.equal(key.material('ES256'), imported, 'answered synchronously once imported');
  });

  it('a key WebCrypto will not import for the algorithm goes to jose as the KeyObject, refused as before (ERR_AUTH_TOKEN_HEADER_INVALID)', async () => {
    // A key bound to an algorithm it cannot serve: only reachable through a hand-built key set, never
    // through fromPem/fromJwks (they derive the algorithms from the key). jose refuses the pair itself.
    const { publicKey } = generateKeyPairSync('ed25519');
    const mismatched = new PublicVerificationKey(publicKey, undefined, new Set(['ES256']));
    assert.equal(await mismatched.material('ES256'), publicKey, 'WebCrypto refused the import: the KeyObject is handed on');
    const keys = new StaticKeyResolver('public', 'mismatched', [mismatched]);
    const authenticator = createAuthenticator({ keys, algorithms: ['ES256'], cache: false });
    const signer = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const now = Math.floor(Date.now() / 1000);
    await assert.rejects(authenticator.authenticate(es256Token(signer, { exp: now + 60 }), METHOD), { code: 'ERR_AUTH_TOKEN_HEADER_INVALID' });
  });

  it('sameKeyAs: the same public key published again matches; another key does not', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const a = new PublicVerificationKey(publicKey, 'k', new Set(['ES256']));
    const republished = createPublicKey(publicKey.export({ type: 'spki', format: 'pem' }));
    assert.equal(a.sameKeyAs(new PublicVerificationKey(republished, 'k', new Set(['ES256']))), true);
    assert.equal(a.sameKeyAs(new PublicVerificationKey(other, 'k', new Set(['ES256']))), false);
  });

  it('revocation ids: deferred, equal to the eager ones once read', () => {
    const claims = Object.freeze({ iss: 'https://idp.example/', jti: 'a1', sub: 'alice', azp: 'web', iat: 1_700_000_000 });
    const eager = tokenLookup(claims, 'tRw7');
    const deferred = deferredTokenLookup(claims, 'tRw7');
    assert.ok(Object.isFrozen(deferred));
    assert.deepEqual(
      { tokenIds: deferred.tokenIds, subjectId: deferred.subjectId, clientId: deferred.clientId, issuedAt: deferred.issuedAt, issuer: deferred.issuer },
      { ...eager },
    );
    assert.equal(deferred.tokenIds, deferred.tokenIds, 'computed once, then kept');
  });

  it('a revocation landing on an already-cached token refuses its next call (by subject, by tokenId)', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const authenticator = createAuthenticator({ keys: idp.keys, algorithms: ['ES256'] });
    const alice = await idp.sign({ sub: 'alice' });
    const bob = await idp.sign({ sub: 'bob' });
    await authenticator.authenticate(alice, METHOD);
    const { context } = await authenticator.authenticate(bob, METHOD);
    await authenticator.authenticate(bob, METHOD); // a hit, while nothing is revoked
    await authenticator.revocations.revoke({ kind: 'subject', issuer: idp.issuer, subject: 'alice', before: new Date(Date.now() + 5000) });
    await assert.rejects(authenticator.authenticate(alice, METHOD), { code: 'ERR_AUTH_TOKEN_REVOKED' });
    await authenticator.authenticate(bob, METHOD);
    await authenticator.revocations.revoke({ kind: 'token', tokenId: context.tokenId });
    await assert.rejects(authenticator.authenticate(bob, METHOD), { code: 'ERR_AUTH_TOKEN_REVOKED' });
  });

  it('VerificationLimit.enter takes a place or throws ERR_AUTH_VERIFIER_BUSY; leave gives it back', () => {
    const limit = new VerificationLimit(1);
    limit.enter();
    assert.throws(() => limit.enter(), { code: 'ERR_AUTH_VERIFIER_BUSY' });
    limit.leave();
    limit.enter();
    limit.leave();
  });

  it('a verification under the bound releases its place however it ends, also when its resolver throws synchronously', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const authenticator = createAuthenticator({ keys: idp.keys, algorithms: ['HS256'], maxConcurrentVerifications: 1, cache: false });
    const unknownKid = authenticator.authenticate(await idp.sign({}, { header: { kid: 'nobody-has-it' } }), METHOD);
    assert.ok(unknownKid instanceof Promise, 'a synchronous refusal by the resolver rejects, never throws');
    await assert.rejects(unknownKid, { code: 'ERR_AUTH_KEY_NOT_FOUND' });
    await assert.rejects(authenticator.authenticate(`${(await idp.sign()).slice(0, -4)}AAAA`, METHOD), { code: 'ERR_AUTH_SIGNATURE_INVALID' });
    const { context } = await authenticator.authenticate(await idp.sign({ sub: 'carol' }), METHOD);
    assert.equal(context.subject, 'carol');
  });
});
