/**
 * A bare HTTP/2 gRPC call, for headers the grpc-js client refuses to send (over 64 KiB of metadata):
 * one empty request message, then the status from the trailers.
 */
import http2 from 'node:http2';
import { decodeErrorInfo } from '../../src/client/index.ts';

export interface RawOutcome {
  /** The gRPC status, or undefined when the HTTP/2 layer refused the request before gRPC saw it. */
  readonly code: number | undefined;
  readonly reason: string | undefined;
  /** The HTTP/2 error, when the transport refused the request. */
  readonly transportError: string | undefined;
}

export async function rawUnaryCall(address: string, path: string, headers: Record<string, string>): Promise<RawOutcome> {
  const session = http2.connect(`http://${address}`, { maxSendHeaderBlockLength: 16 * 1024 * 1024, settings: { maxHeaderListSize: 16 * 1024 * 1024 } });
  session.on('error', () => undefined); // reported through the request below
  try {
    const request = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers });
    const trailers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
      let initial: http2.IncomingHttpHeaders = {};
      request.on('response', (responseHeaders) => {
        initial = responseHeaders;
      });
      request.on('trailers', resolve);
      request.on('error', reject);
      // A trailers-only response carries the status in the response headers.
      request.on('end', () => resolve(initial));
      request.on('data', () => undefined);
      request.end(Buffer.from([0, 0, 0, 0, 0]));
    });
    const details = trailers['grpc-status-details-bin'];
    const info = typeof details === 'string' ? decodeErrorInfo(Buffer.from(details, 'base64')) : undefined;
    return { code: Number(trailers['grpc-status']), reason: info?.reason, transportError: undefined };
  } catch (error) {
    return { code: undefined, reason: undefined, transportError: (error as Error).message };
  } finally {
    session.close();
  }
}
