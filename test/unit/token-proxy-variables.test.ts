import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { proxyRisk, readProxyVariables } from '../../src/client/proxy-variables.ts';
import { TransportGuard } from '../../src/client/transport-guard.ts';

const PROXY = 'http://proxy.corp:3128';

/** The kind of risk for `target` under `env`, or 'direct' when no proxy can carry the call. */
function verdict(target: string, env: NodeJS.ProcessEnv): string {
  return proxyRisk(target, readProxyVariables(env, 'call'))?.kind ?? 'direct';
}

describe('token interceptor: which loopback targets an HTTP proxy may carry (grpc-js rules)', () => {
  it('no proxy variable, or only empty ones → direct', () => {
    assert.equal(verdict('dns:127.0.0.1:50051', {}), 'direct');
    assert.equal(verdict('dns:127.0.0.1:50051', { grpc_proxy: '', https_proxy: '', http_proxy: '', no_proxy: '' }), 'direct');
  });

  it('any of grpc_proxy, https_proxy, http_proxy → proxied, whatever the target form', () => {
    for (const variable of ['grpc_proxy', 'https_proxy', 'http_proxy']) {
      for (const target of [
        'dns:127.0.0.1:50051',
        'dns:localhost:50051',
        'dns:///localhost:50051',
        'ipv4:127.0.0.1:50051',
        'ipv6:[::1]:50051',
        'dns:[::1]:50051',
      ]) {
        assert.equal(verdict(target, { [variable]: PROXY }), 'proxied', `${variable} ${target}`);
      }
    }
  });

  it('a proxy value grpc-js cannot use (unparsable, https:) still counts: the guard fails closed', () => {
    assert.equal(verdict('dns:127.0.0.1:50051', { https_proxy: 'proxy.corp:3128' }), 'proxied');
    assert.equal(verdict('dns:127.0.0.1:50051', { https_proxy: 'https://proxy.corp:3128' }), 'proxied');
  });

  it('unix: targets are never proxied; unix-abstract: targets are (grpc-js exempts only unix:)', () => {
    assert.equal(verdict('unix:/run/app.sock', { grpc_proxy: PROXY }), 'direct');
    assert.equal(verdict('unix:///run/app.sock', { grpc_proxy: PROXY }), 'direct');
    assert.equal(verdict('unix-abstract:app', { grpc_proxy: PROXY }), 'proxied');
  });

  it('no_proxy listing the host exactly → direct; for IPv6 without brackets', () => {
    assert.equal(verdict('dns:127.0.0.1:50051', { grpc_proxy: PROXY, no_proxy: 'idp.example,127.0.0.1' }), 'direct');
    assert.equal(verdict('dns:localhost:50051', { grpc_proxy: PROXY, no_proxy: 'localhost' }), 'direct');
    assert.equal(verdict('dns:[::1]:50051', { grpc_proxy: PROXY, no_proxy: '::1' }), 'direct');
    assert.equal(verdict('dns:[::1]:50051', { grpc_proxy: PROXY, no_proxy: '[::1]' }), 'proxied');
  });

  it('no_grpc_proxy replaces no_proxy when non-empty, as in grpc-js', () => {
    assert.equal(verdict('dns:127.0.0.1:1', { grpc_proxy: PROXY, no_grpc_proxy: '127.0.0.1', no_proxy: 'x' }), 'direct');
    assert.equal(verdict('dns:127.0.0.1:1', { grpc_proxy: PROXY, no_grpc_proxy: 'x', no_proxy: '127.0.0.1' }), 'proxied');
    assert.equal(verdict('dns:127.0.0.1:1', { grpc_proxy: PROXY, no_grpc_proxy: '', no_proxy: '127.0.0.1' }), 'direct');
  });

  it('entries grpc-js 1.10–1.12 do not match (CIDR, suffix, empty, spaces, *, other case) → proxied', () => {
    for (const noProxy of ['127.0.0.0/8', '127.0.0.1/32', '.0.0.1', '0.1', 'x,', ',x', ' 127.0.0.1', '127.0.0.1 ', '*', 'LOCALHOST']) {
      const target = noProxy === 'LOCALHOST' ? 'dns:localhost:1' : 'dns:127.0.0.1:1';
      assert.equal(verdict(target, { grpc_proxy: PROXY, no_proxy: noProxy }), 'proxied', JSON.stringify(noProxy));
    }
  });

  it("a target that is a proxy's address is a proxied channel, even when no_proxy lists its host", () => {
    const env = { grpc_proxy: 'http://127.0.0.1:3128', no_proxy: '127.0.0.1,localhost,::1' };
    assert.equal(verdict('dns:127.0.0.1:3128', env), 'proxy-target');
    assert.equal(verdict('dns:127.0.0.1:50051', env), 'direct', 'another port of the same host');
    assert.equal(verdict('dns:localhost:80', { http_proxy: 'http://LocalHost', no_proxy: 'localhost' }), 'proxy-target', 'default port 80');
    assert.equal(verdict('dns:[::1]:3128', { https_proxy: 'http://[::1]:3128', no_proxy: '::1' }), 'proxy-target');
    assert.equal(verdict('dns:127.0.0.1:3128', { grpc_proxy: 'http://127.1:3128', no_proxy: '127.0.0.1' }), 'proxy-target', 'URL normalizes 127.1');
    // grpc-js uses only the first variable; the guard compares with all of them.
    assert.equal(verdict('dns:127.0.0.1:8080', { grpc_proxy: PROXY, http_proxy: 'http://127.0.0.1:8080', no_proxy: '127.0.0.1' }), 'proxy-target');
    assert.equal(verdict('dns:127.0.0.1', { grpc_proxy: 'http://127.0.0.1:3128', no_proxy: '127.0.0.1' }), 'proxy-target', 'no port: may be any');
  });

  it('a target path grpc-js cannot split → proxied (fail closed)', () => {
    for (const target of ['dns:[::1', 'dns:[::1]x', 'dns:127.0.0.1:port', '']) {
      assert.equal(verdict(target, { grpc_proxy: PROXY, no_proxy: '127.0.0.1,::1' }), 'proxied', JSON.stringify(target));
    }
  });

  it('the guard reads the variables when it is made and at every call; a proxy named at either moment refuses', () => {
    const env: NodeJS.ProcessEnv = { grpc_proxy: PROXY };
    const madeWithProxy = new TransportGuard(undefined, env);
    delete env.grpc_proxy;
    assert.equal(madeWithProxy.refusal('dns:127.0.0.1:1')?.code, 9, 'named when made');
    const madeWithout = new TransportGuard(undefined, env);
    assert.equal(madeWithout.refusal('dns:127.0.0.1:1'), undefined);
    env.https_proxy = PROXY;
    assert.equal(madeWithout.refusal('dns:127.0.0.1:1')?.code, 9, 'named at the call');
    env.no_proxy = '127.0.0.1';
    assert.equal(madeWithout.refusal('dns:127.0.0.1:1'), undefined);
    assert.equal(madeWithProxy.refusal('dns:127.0.0.1:1')?.code, 9, 'the reading when made had no no_proxy: a channel made then is proxied');
  });

  it("channelSecurity 'tls' or 'insecure': proxies do not matter; the refusal never shows the variables' values", () => {
    const env = { https_proxy: 'http://user:s3cret@127.0.0.1:3128' };
    assert.equal(new TransportGuard('tls', env).refusal('dns:127.0.0.1:1'), undefined);
    assert.equal(new TransportGuard('insecure', env).refusal('dns:127.0.0.1:1'), undefined);
    for (const target of ['dns:127.0.0.1:1', 'dns:127.0.0.1:3128']) {
      const refusal = new TransportGuard(undefined, env).refusal(target);
      assert.equal(refusal?.code, 9, target);
      assert.equal(refusal?.details.includes('s3cret'), false, target);
    }
  });
});
