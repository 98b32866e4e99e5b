/**
 * Unit-testing an authenticated service with createTestIssuer: runs notes-service.test.ts with node's
 * test runner and exits with its result. Read the test file; it is the example.
 * Run: node --import tsx examples/testing/main.ts
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const testFile = fileURLToPath(new URL('./notes-service.test.ts', import.meta.url));
// Run as a test runner of its own, even when this program itself runs under `node --test`.
const { NODE_TEST_CONTEXT: _parentRunner, ...env } = process.env;
const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', testFile], { stdio: 'inherit', env });
child.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal ? 1 : 0);
});
