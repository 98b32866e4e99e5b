/** Where `inspect` gets its token: the argument, or standard input for `-`. */
import { UsageError } from './args.ts';
import type { CommandIo } from './io.ts';

/**
 * The token from the argument or stdin, trimmed. A pasted `Bearer <token>` or `authorization: Bearer
 * <token>` is accepted too: people copy tokens from headers.
 *
 * @example
 * ```ts
 * import type { CommandIo } from './io.ts';
 * declare const io: CommandIo;
 * await readToken('Bearer eyJhbGciOiJFUzI1NiJ9.e30.c2ln', io); // 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln'
 * await readToken('-', io); // the token on standard input
 * ```
 */
export async function readToken(argument: string | undefined, io: CommandIo): Promise<string> {
  if (argument === undefined) throw new UsageError('give a token, or - to read it from standard input');
  const raw = argument === '-' ? await io.readStdin() : argument;
  const token = raw.trim().replace(/^(authorization:\s*)?bearer\s+/i, '');
  if (token === '') throw new UsageError(argument === '-' ? 'standard input held no token' : 'the token is empty');
  return token;
}
