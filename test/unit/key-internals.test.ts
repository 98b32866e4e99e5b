/**
 * Module-private helpers of the key and client layers stay module-private: each is used by its own file
 * only, and an export would invite other layers (or a deep import) to depend on an internal detail.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as authorizedCall from '../../src/client/authorized-call.ts';
import * as clientCredentials from '../../src/client/client-credentials.ts';
import * as keyAlgorithms from '../../src/keys/key-algorithms.ts';
import * as keyUrl from '../../src/keys/key-url.ts';
import * as remoteJwks from '../../src/keys/remote-jwks.ts';
// @ts-expect-error FetchLimits is module-private
import type { FetchLimits } from '../../src/keys/http-fetch.ts';
// @ts-expect-error FetchedJson is module-private
import type { FetchedJson } from '../../src/keys/http-fetch.ts';
// @ts-expect-error ImportedKeySet is module-private
import type { ImportedKeySet } from '../../src/keys/jwk.ts';
// @ts-expect-error KeyInputSpec is module-private
import type { KeyInputSpec } from '../../src/keys/static-resolver.ts';
// @ts-expect-error Loader is module-private
import type { Loader } from '../../src/keys/refreshing-cache.ts';
// @ts-expect-error TokenRequest is module-private
import type { TokenRequest } from '../../src/client/token-endpoint-request.ts';
// @ts-expect-error TokenResponse is module-private
import type { TokenResponse } from '../../src/client/token-endpoint-request.ts';

describe('internals stay internal', () => {
  it('values used only by their own module are not exported', () => {
    const surfaces: Array<[string, object, readonly string[]]> = [
      ['client/authorized-call', authorizedCall, ['isTokenExpired']],
      ['client/client-credentials', clientCredentials, ['scopeParameter']],
      ['keys/key-algorithms', keyAlgorithms, ['MIN_RSA_BITS']],
      ['keys/key-url', keyUrl, ['keyUrlProblem']],
      ['keys/remote-jwks', remoteJwks, ['MAX_KEY_CANDIDATES', 'MAX_JWKS_KEYS', 'checkAlgorithmsWithin']],
    ];
    for (const [module, namespace, internal] of surfaces) {
      for (const name of internal) assert.equal(name in namespace, false, `${module} exports ${name}`);
    }
  });
});

/**
 * Types used only by their own module are not exported. The check is the type-check itself: each import
 * above carries @ts-expect-error, so if one of these types becomes exported its directive is unused and
 * `npm run typecheck` fails. (Exported here only so that every import is read.)
 */
export type Unexported = [FetchLimits, FetchedJson, ImportedKeySet, KeyInputSpec<never>, Loader<never>, TokenRequest, TokenResponse];
