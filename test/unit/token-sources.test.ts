import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLoopbackTarget } from '../../src/client/channel-target.ts';
import { isLoopbackHost } from '../../src/util/loopback.ts';
import { toTokenSupplier } from '../../src/client/token-source.ts';
import { TransportGuard } from '../../src/client/transport-guard.ts';
import { isTokenError } from '../../src/client/index.ts';

describe('token sources: one TokenSource type', () => {
  it('a fixed string is sent as it is and cannot be refreshed', async () => {
    const supplier = toTokenSupplier('abc.def.ghi', 'token');
    assert.equal(await supplier.get(), 'abc.def.ghi');
    assert.equal(await supplier.refresh('abc.def.ghi'), undefined);
  });

  it('a function is asked on every call; a refresh that returns the rejected token gives nothing to retry with', async () => {
    let n = 0;
    const supplier = toTokenSupplier(() => `token-${++n}`, 'token');
    assert.equal(await supplier.get(), 'token-1');
    assert.equal(await supplier.refresh('token-1'), 'token-2');
    const same = toTokenSupplier(async () => 'same', 'token');
    assert.equal(await same.refresh('same'), undefined);
  });

  it('a function may return { token, expiresIn }, the shape cachedToken caches: the token is sent', async () => {
    const supplier = toTokenSupplier(() => ({ token: 'abc.def.ghi', expiresIn: 60 }), 'token');
    assert.equal(await supplier.get(), 'abc.def.ghi');
    const bad = toTokenSupplier(async () => ({ token: 'abc.def.ghi', expiresIn: 'soon' }) as never, 'token');
    await assert.rejects(bad.get(), { code: 'ERR_TOKEN_SOURCE_FAILED' });
  });

  it('a provider without refresh(): getToken() is asked again', async () => {
    let n = 0;
    const supplier = toTokenSupplier({ getToken: async () => `p-${++n}` }, 'token');
    assert.equal(await supplier.get(), 'p-1');
    assert.equal(await supplier.refresh('p-1'), 'p-2');
  });

  it('a throwing function → ERR_TOKEN_SOURCE_FAILED; its message is kept only as the cause', async () => {
    const supplier = toTokenSupplier(() => {
      throw new Error('vault said: token=s3cr3t');
    }, 'token');
    const error = await supplier.get().catch((e: unknown) => e);
    assert.ok(isTokenError(error));
    assert.equal(error.code, 'ERR_TOKEN_SOURCE_FAILED');
    assert.equal(error.message.includes('s3cr3t'), false);
  });

  it('bad sources are configuration errors naming the option, without echoing the value', () => {
    for (const bad of ['', 'Bearer s3cr3t', 'two words', 42, null, {}, { getToken: async () => 'x', refresh: 'no' }]) {
      assert.throws(
        () => toTokenSupplier(bad as never, 'token'),
        (error: Error & { code?: string; option?: string }) =>
          error.code === 'ERR_AUTH_INVALID_OPTION' && error.option?.startsWith('token') === true && !error.message.includes('s3cr3t'),
      );
    }
  });
});

describe('token leak guard: where a token may go', () => {
  it('loopback hosts: localhost, 127.0.0.0/8, ::1 and IPv4-mapped loopback; nothing else', () => {
    for (const host of ['localhost', 'LOCALHOST', '127.0.0.1', '127.8.9.10', '::1', '[::1]', '::ffff:127.0.0.1'])
      assert.equal(isLoopbackHost(host), true, host);
    for (const host of ['example.com', 'localhost.example.com', 'evil.localhost', '10.0.0.1', '0.0.0.0', '128.0.0.1', '::', 'fd00::2', ''])
      assert.equal(isLoopbackHost(host), false, host);
  });

  it('channel targets as grpc-js reports them', () => {
    const local = [
      'dns:127.0.0.1:50051',
      'dns:localhost:50051',
      'dns:///localhost:50051',
      'ipv4:127.0.0.1:1,127.0.0.2:2',
      'ipv6:[::1]:50051',
      'unix:/run/app.sock',
      'unix-abstract:app',
      // An address needs no DNS, whichever server the target names.
      'dns://10.0.0.53/127.0.0.1:50051',
    ];
    const remote = [
      'dns:api.example.com:443',
      'dns://8.8.8.8/api.example.com:443',
      'ipv4:127.0.0.1:1,10.0.0.1:2',
      'ipv6:[fd00::2]:50051',
      'xds:///orders',
      'unknown',
      '127.0.0.1:50051',
      '',
      // Read as grpc-js reads them: a port that is not a number, an unclosed bracket, an empty address.
      'dns:localhost:http',
      'ipv6:[::1:50051',
      'ipv4:127.0.0.1:1,',
      // A name looked up at the DNS server the target names (grpc-js with GRPC_NODE_USE_ALTERNATIVE_RESOLVER):
      // that server, not this machine, says where localhost is.
      'dns://10.0.0.53/localhost:50051',
      'dns://10.0.0.53/LOCALHOST',
    ];
    for (const target of local) assert.equal(isLoopbackTarget(target), true, target);
    for (const target of remote) assert.equal(isLoopbackTarget(target), false, target);
  });

  it('not set: refuses non-loopback targets with FAILED_PRECONDITION; tls and insecure let them through', () => {
    assert.equal(new TransportGuard(undefined, {}).refusal('dns:127.0.0.1:1'), undefined);
    assert.equal(new TransportGuard(undefined).refusal('dns:api.example.com:443')?.code, 9);
    assert.equal(new TransportGuard('tls').refusal('dns:api.example.com:443'), undefined);
    assert.equal(new TransportGuard('insecure').refusal('dns:api.example.com:443'), undefined);
  });

  it("'tls' declared but the transport is plaintext: one warning, then that target is refused", async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const guard = new TransportGuard('tls');
      guard.observe('dns:api.example.com:443', { transportSecurityType: 'ssl' });
      guard.observe('dns:api.example.com:443', null);
      assert.equal(guard.refusal('dns:api.example.com:443'), undefined, 'TLS or unknown: no verdict');
      guard.observe('dns:api.example.com:443', {});
      guard.observe('dns:api.example.com:443', {});
      assert.equal(guard.refusal('dns:api.example.com:443')?.code, 9);
      assert.equal(guard.refusal('dns:other.example.com:443'), undefined);
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(warnings.filter((warning) => (warning as { code?: string }).code === 'GRPC_JWT_AUTH_PLAINTEXT_CHANNEL').length, 1);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
