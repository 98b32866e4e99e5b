#!/usr/bin/env node
/**
 * The `grpc-jwt-auth` executable (package.json `bin`): inspect and verify tokens, sign development tokens,
 * run a loopback identity provider. See `grpc-jwt-auth --help`.
 *
 * @example
 * ```sh
 * npx grpc-jwt-auth inspect "$TOKEN" --issuer-url https://idp.example/ --alg RS256 --aud orders-api
 * ```
 * @module
 */
import { processIo } from './io.ts';
import { runCli } from './run.ts';

process.exitCode = await runCli(process.argv.slice(2), processIo());
