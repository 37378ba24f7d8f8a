import { randomUUID } from 'node:crypto';
import type { Config } from '../config/config.js';
import type { CapturedExchange, HeaderList } from '../core/model.js';
import type { Pipeline } from '../core/pipeline.js';
import { clientAddress, stripShadowSuffix } from './client-address.js';

/** What the capture needs to know about a request, whichever protocol brought it. */
export interface RequestHead {
  headers: HeaderList;
  method: string;
  target: string;
  httpVersion: string;
  authority: string;
  requestId: string | undefined;
  remoteAddress: string | undefined;
  /** A proxy health check (see respond below). */
  probe: boolean;
}

/** One request being read: body bytes in, then end once. */
export interface RequestCapture {
  /** Body bytes as they arrive; past shadow's body cap they are counted, not kept. */
  push(chunk: Buffer): void;
  /**
   * The body ended (complete) or broke off (reset, timeout, framing error): the exchange is
   * submitted exactly once, with what arrived.
   */
  end(complete: boolean): void;
  /** Whether the answer has been sent. */
  answered(): boolean;
}

export interface CaptureContext {
  config: Config['shadow'];
  maxBodyBytes: number;
  pipeline: Pipeline;
  /** Readiness reported to proxy health checks. */
  ready: () => boolean;
}

/** Whether a request is a proxy health check: gen-envoy marks them on /readyz. */
export function isProbe(marked: boolean, target: string): boolean {
  if (!marked) return false;
  const q = target.indexOf('?');
  return (q < 0 ? target : target.slice(0, q)) === '/readyz';
}

/**
 * Starts capturing one request. `answer` is called once with the status to send: as soon as
 * the body is in or the analysis cap is reached, or when the request breaks off.
 */
export function createCapture(
  ctx: CaptureContext,
  head: RequestHead,
  receivedAt: number,
  answer: (status: number) => void,
): RequestCapture {
  const { config, maxBodyBytes } = ctx;
  const chunks: Buffer[] = [];
  let kept = 0;
  let seen = 0;
  let responded = false;
  let finished = false;

  // Envoy ignores the shadow response, but its connection pool waits for it: answer as
  // soon as the body is in or the analysis cap is reached, and keep draining past the cap
  // so that a streamed mirror (Envoy ≥ 1.33) never sees back-pressure from us.
  //
  // A proxy health check (gen-envoy marks them with x-shadowtap-health-check on /readyz)
  // gets 200 or 503 so the proxy stops mirroring to a replica that is shutting down. It is
  // still analysed like any request: the header is easy to forge, so it must not be a way
  // to slip a payload past detection.
  const respond = (): void => {
    if (responded) return;
    responded = true;
    answer(head.probe ? (ctx.ready() ? 200 : 503) : config.responseStatus);
  };

  return {
    push(chunk) {
      seen += chunk.length;
      if (kept < maxBodyBytes) {
        const take = Math.min(chunk.length, maxBodyBytes - kept);
        chunks.push(take === chunk.length ? chunk : chunk.subarray(0, take));
        kept += take;
        if (kept >= maxBodyBytes) respond();
      }
    },
    end(complete) {
      if (finished) return;
      finished = true;
      const id = randomUUID();
      const exchange: CapturedExchange = {
        id,
        requestId: head.requestId ?? id,
        source: 'mirror',
        receivedAt,
        clientIp: clientAddress(head.headers, head.remoteAddress, config.xffTrustedHops),
        host: stripShadowSuffix(head.authority),
        method: head.method,
        target: head.target,
        httpVersion: head.httpVersion,
        headers: head.headers,
        body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, kept),
        bodyTruncated: seen > kept || !complete,
        bodyBytesSeen: seen,
      };
      // A client reset cancels Envoy's copy mid-body: analyse what arrived anyway.
      ctx.pipeline.submit(exchange);
      if (complete) respond();
    },
    answered: () => responded,
  };
}
