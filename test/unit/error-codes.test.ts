/**
 * One error classification: the code. Its status, its ErrorInfo reason (the code without `ERR_AUTH_`,
 * with no exception) and its RFC 6750 error follow from it, and errors/ loads without grpc-js.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import ts from 'typescript';
import * as api from '../../src/index.ts';
import { AuthError, type AuthErrorCode } from '../../src/index.ts';
import { decodeErrorInfo } from '../../src/errors/error-info.ts';
import { rejectionStatus } from '../../src/server/rejection.ts';

/** Every code with the grpc-js status it must map to; the compiler refuses a code left out. */
const EXPECTED_STATUS: Record<AuthErrorCode, status> = {
  ERR_AUTH_TOKEN_MISSING: status.UNAUTHENTICATED,
  ERR_AUTH_AUTHORIZATION_MALFORMED: status.UNAUTHENTICATED,
  ERR_AUTH_TOKEN_MALFORMED: status.UNAUTHENTICATED,
  ERR_AUTH_TOKEN_TOO_LARGE: status.UNAUTHENTICATED,
  ERR_AUTH_ALG_NOT_ALLOWED: status.UNAUTHENTICATED,
  ERR_AUTH_TOKEN_HEADER_INVALID: status.UNAUTHENTICATED,
  ERR_AUTH_TOKEN_TYPE_INVALID: status.UNAUTHENTICATED,
  ERR_AUTH_KEY_NOT_FOUND: status.UNAUTHENTICATED,
  ERR_AUTH_SIGNATURE_INVALID: status.UNAUTHENTICATED,
  ERR_AUTH_TOKEN_EXPIRED: status.UNAUTHENTICATED,
  ERR_AUTH_TOKEN_NOT_YET_VALID: status.UNAUTHENTICATED,
  ERR_AUTH_TOKEN_TOO_OLD: status.UNAUTHENTICATED,
  ERR_AUTH_ISSUER_INVALID: status.UNAUTHENTICATED,
  ERR_AUTH_AUDIENCE_INVALID: status.UNAUTHENTICATED,
  ERR_AUTH_CLAIM_MISSING: status.UNAUTHENTICATED,
  ERR_AUTH_CLAIM_INVALID: status.UNAUTHENTICATED,
  ERR_AUTH_TOKEN_REJECTED: status.UNAUTHENTICATED,
  ERR_AUTH_TOKEN_REVOKED: status.UNAUTHENTICATED,
  ERR_AUTH_CERTIFICATE_MISSING: status.UNAUTHENTICATED,
  ERR_AUTH_CERTIFICATE_MISMATCH: status.UNAUTHENTICATED,
  ERR_AUTH_TOKEN_NOT_BOUND: status.UNAUTHENTICATED,
  ERR_AUTH_DPOP_SCHEME_REQUIRED: status.UNAUTHENTICATED,
  ERR_AUTH_DPOP_PROOF_MISSING: status.UNAUTHENTICATED,
  ERR_AUTH_DPOP_PROOF_INVALID: status.UNAUTHENTICATED,
  ERR_AUTH_DPOP_PROOF_STALE: status.UNAUTHENTICATED,
  ERR_AUTH_DPOP_PROOF_REPLAYED: status.UNAUTHENTICATED,
  ERR_AUTH_DPOP_KEY_MISMATCH: status.UNAUTHENTICATED,
  ERR_AUTH_DPOP_NONCE_REQUIRED: status.UNAUTHENTICATED,
  ERR_AUTH_REPLAY_CHECK_UNAVAILABLE: status.UNAVAILABLE,
  ERR_AUTH_REVOCATIONS_UNAVAILABLE: status.UNAVAILABLE,
  ERR_AUTH_INSUFFICIENT_SCOPE: status.PERMISSION_DENIED,
  ERR_AUTH_INSUFFICIENT_USER_AUTHENTICATION: status.UNAUTHENTICATED,
  ERR_AUTH_ACCESS_DENIED: status.PERMISSION_DENIED,
  ERR_AUTH_KEYS_UNAVAILABLE: status.UNAVAILABLE,
  ERR_AUTH_VERIFIER_BUSY: status.UNAVAILABLE,
  ERR_AUTH_INTERNAL: status.INTERNAL,
};

describe('one error classification: the code decides the rest', () => {
  for (const [code, expected] of Object.entries(EXPECTED_STATUS) as Array<[AuthErrorCode, status]>) {
    it(`${code}: status ${status[expected]}, reason ${code.slice('ERR_AUTH_'.length)} on the error and in the ErrorInfo on the wire`, () => {
      const error = new AuthError(code);
      assert.equal(error.status, expected);
      assert.equal(error.reason, code.slice('ERR_AUTH_'.length));
      const sent = rejectionStatus(error);
      assert.equal(sent.code, expected);
      assert.equal(decodeErrorInfo(sent.metadata.get('grpc-status-details-bin')[0] as Buffer)?.reason, code.slice('ERR_AUTH_'.length));
    });
  }

  it('ERR_AUTH_ALG_NOT_ALLOWED → reason ALG_NOT_ALLOWED (no longer the one exception, ALGORITHM_NOT_ALLOWED)', () => {
    assert.equal(new AuthError('ERR_AUTH_ALG_NOT_ALLOWED').reason, 'ALG_NOT_ALLOWED');
  });

  it('the public entry exports no second classification: GrpcStatus is gone (use grpc-js status)', () => {
    assert.equal('GrpcStatus' in api, false);
  });
});

describe('errors/ loads without grpc-js', () => {
  const dir = fileURLToPath(new URL('../../src/errors/', import.meta.url));
  for (const name of readdirSync(dir).filter((file) => file.endsWith('.ts'))) {
    it(`${name}: compiled, it imports neither grpc-js nor anything outside errors/ and util/`, () => {
      const source = readFileSync(join(dir, name), 'utf8');
      const { outputText } = ts.transpileModule(source, {
        compilerOptions: {
          module: ts.ModuleKind.ESNext,
          target: ts.ScriptTarget.ES2022,
          verbatimModuleSyntax: true,
          rewriteRelativeImportExtensions: true,
          removeComments: true,
        },
      });
      const imports = [...outputText.matchAll(/\bfrom\s+'([^']+)'|\bimport\s*\(\s*'([^']+)'|\bimport\s+'([^']+)'/g)].map((m) => m[1] ?? m[2] ?? m[3]);
      for (const specifier of imports) {
        assert.ok(specifier?.startsWith('./') || specifier?.startsWith('../util/'), `${name} imports ${specifier} at run time`);
      }
    });
  }
});
