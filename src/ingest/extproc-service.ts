import { randomUUID } from 'node:crypto';
import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { Config } from '../config/config.js';
import { ERR_EXTPROC_IDLE, ERR_EXTPROC_TOO_MANY_STREAMS } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { CapturedExchange } from '../core/model.js';
import type { Pipeline } from '../core/pipeline.js';
import type { ServiceRegistration } from '../publish/detection-service.js';
import { toGrpcError } from '../publish/grpc-status.js';
import { createBlockingPolicy, type BlockingPolicy } from './extproc-blocking.js';
import { createExchangeAssembler, type AcceptResult, type ExchangeAssembler } from './extproc-exchange.js';
import type { ExtProcMetrics } from './extproc-metrics.js';
import {
  loadExtProcProtos,
  type ProcessingRequest,
  type ProcessingRequestKind,
  type ProcessingResponse,
} from './extproc-protos.js';

/*
 * envoy.service.ext_proc.v3.ExternalProcessor/Process: one bidi stream per HTTP request.
 *
 * - Observability mode (`observability_mode: true` on the messages): Envoy does not wait
 *   and ignores replies, so we never write one. The exchange is handed to admission when
 *   the response ends or the stream ends (EOF, or CANCELLED: Envoy may close an
 *   observability stream without EOF, which is the end of the exchange, not an error).
 * - Inline mode: every message gets its matching CONTINUE at once, from the event loop,
 *   before anything else happens; nothing in this path waits on admission or the pool. The
 *   exchange is submitted at the end like above; if admission is full it is shed and counted.
 * - Blocking (inline, extProc.blocking in scope for the host/path): the request-headers step
 *   and the last request-body step wait for a verdict (`submitAndWait`, publish: false) for
 *   at most inlineDeadlineMs, then answer immediate_response or CONTINUE. No verdict in time,
 *   shed, or any error: CONTINUE (fail open) and a counter.
 * - Messages out of Envoy's order, or empty, close the stream with INVALID_ARGUMENT /
 *   FAILED_PRECONDITION and a counter; nothing from such a stream is analysed.
 */

type Call = ServerDuplexStream<ProcessingRequest, ProcessingResponse>;

/** CONTINUE replies, one per message kind; built once (serialisation does not mutate them). */
const CONTINUE: Readonly<Record<ProcessingRequestKind, ProcessingResponse>> = Object.freeze({
  request_headers: { request_headers: { response: { status: 'CONTINUE' } } },
  response_headers: { response_headers: { response: { status: 'CONTINUE' } } },
  request_body: { request_body: { response: { status: 'CONTINUE' } } },
  response_body: { response_body: { response: { status: 'CONTINUE' } } },
  request_trailers: { request_trailers: {} },
  response_trailers: { response_trailers: {} },
});

export interface ExtProcService extends ServiceRegistration {
  /** Streams currently open. */
  activeStreams(): number;
}

export interface ExtProcServiceOptions {
  config: Config['extProc'];
  /** Request body bytes kept (analysis.limits.maxBodyBytes). */
  maxRequestBodyBytes: number;
  /** X-Forwarded-For hops to skip (shadow.xffTrustedHops: same network, same rule). */
  xffTrustedHops: number;
  pipeline: Pipeline;
  metrics: ExtProcMetrics;
  logger: Logger;
}

type StreamEnd = 'eof' | 'cancelled' | 'error' | 'idle_timeout';

export function createExtProcService(opts: ExtProcServiceOptions): ExtProcService {
  const { config, pipeline, metrics, logger } = opts;
  const policy: BlockingPolicy = createBlockingPolicy(config.blocking);
  let active = 0;

  /** Waits for a verdict within the deadline; null means "let it through" (counted by reason). */
  const decide = async (exchange: CapturedExchange): Promise<ProcessingResponse | null> => {
    let timer: NodeJS.Timeout | undefined;
    try {
      // Our own deadline decides the answer; admission's wait is longer so that its null
      // means "shed" (or a worker error), never "late": the two are counted apart.
      const deadline = new Promise<'deadline'>((resolve) => {
        timer = setTimeout(() => resolve('deadline'), config.inlineDeadlineMs);
      });
      // A distinct id: the final exchange (same request, with its response) may share a batch.
      const verdict = pipeline.submitAndWait({ ...exchange, id: randomUUID() }, config.inlineDeadlineMs * 2, {
        publish: false,
      });
      const result = await Promise.race([verdict, deadline]);
      if (result === 'deadline' || result === null) {
        metrics.failOpen.inc({ reason: result === 'deadline' ? 'deadline' : 'shed' });
        return null;
      }
      const finding = policy.verdict(result);
      if (!finding) return null;
      metrics.blocked.inc({ attack_type: finding.attackType });
      return policy.immediateResponse(exchange.requestId, finding);
    } catch (err) {
      metrics.failOpen.inc({ reason: 'error' });
      logger.error({ err }, 'blocking decision failed; failing open');
      return null;
    } finally {
      clearTimeout(timer);
    }
  };

  const process = (call: Call): void => {
    if (active >= config.maxStreams) {
      metrics.errors.inc({ reason: 'too_many_streams' });
      metrics.streams.inc({ mode: 'unknown', end: 'error' });
      call.emit('error', toGrpcError(ERR_EXTPROC_TOO_MANY_STREAMS(config.maxStreams)));
      return;
    }
    active++;
    metrics.active.inc();

    const assembler: ExchangeAssembler = createExchangeAssembler({
      maxRequestBodyBytes: opts.maxRequestBodyBytes,
      maxResponseBodyBytes: config.maxResponseBodyBytes,
      xffTrustedHops: opts.xffTrustedHops,
    });
    let mode: 'observability' | 'inline' | 'unknown' = 'unknown';
    let blocking = false;
    let submitted = false;
    let ended = false;
    let halfClosed = false;
    // Blocking decisions are asynchronous; replies must still leave in message order, so
    // messages that arrive meanwhile wait here (bounded by inlineDeadlineMs per decision).
    let busy = false;
    const backlog: ProcessingRequest[] = [];

    const idle = setTimeout(() => {
      metrics.errors.inc({ reason: 'idle_timeout' });
      finish('idle_timeout', ERR_EXTPROC_IDLE(config.streamIdleTimeoutMs));
    }, config.streamIdleTimeoutMs);
    idle.unref();

    /** Hands the exchange to admission once (publication: detections carry the response). */
    const submit = (exchange?: CapturedExchange): void => {
      if (submitted || !assembler.started) return;
      submitted = true;
      const outcome = pipeline.submit(exchange ?? assembler.build());
      if (!outcome.accepted) metrics.shed.inc({ reason: outcome.reason });
    };

    const finish = (end: StreamEnd, error?: unknown): void => {
      if (ended) return;
      ended = true;
      clearTimeout(idle);
      active--;
      metrics.active.dec();
      metrics.streams.inc({ mode, end });
      backlog.length = 0;
      if (end !== 'error') submit();
      if (end === 'cancelled') return;
      if (error) call.emit('error', toGrpcError(error));
      else call.end();
    };

    const reply = (kind: string, response: ProcessingResponse): void => {
      if (ended) return;
      metrics.replies.inc({ type: kind });
      call.write(response);
    };

    const block = (response: ProcessingResponse): void => {
      reply('immediate_response', response);
      // Envoy ends the request with our answer and sends nothing more that matters:
      // publish now, with the response the client got.
      const exchange = assembler.build();
      const ir = response.immediate_response!;
      exchange.response = {
        status: Number(ir.status.code),
        headers: [],
        body: new Uint8Array(0),
        bodyTruncated: false,
        origin: 'shadowtap',
      };
      submit(exchange);
    };

    /**
     * True when this message is a step where blocking mode decides: the request headers,
     * the first body message (BUFFERED_PARTIAL sends only one, without end_of_stream, when
     * the body is larger than Envoy's buffer) and the last one (BUFFERED, STREAMED).
     * Streamed chunks in between are answered at once.
     */
    let bodyMessages = 0;
    const decisionStep = (r: AcceptResult): boolean => {
      if (!blocking) return false;
      if (r.kind === 'request_headers') return true;
      if (r.kind !== 'request_body') return false;
      bodyMessages++;
      return bodyMessages === 1 || r.requestEnded;
    };

    const handle = (msg: ProcessingRequest): void => {
      if (ended) return;
      metrics.messages.inc({ type: msg.request ?? 'empty' });
      if (mode === 'unknown') mode = msg.observability_mode ? 'observability' : 'inline';
      const r = assembler.accept(msg);
      if ('error' in r) {
        metrics.errors.inc({ reason: r.reason });
        logger.debug({ reason: r.reason, err: r.error.message }, 'ext_proc stream closed: protocol violation');
        finish('error', r.error);
        return;
      }
      if (r.kind === 'request_headers') {
        const { host, path } = assembler.route();
        blocking = mode === 'inline' && policy.applies(host, path);
      }
      if (mode === 'inline' && !submitted) {
        if (decisionStep(r)) {
          busy = true;
          void decide(assembler.build()).then((response) =>
            guarded(() => {
              busy = false;
              if (response) block(response);
              else reply(r.kind, CONTINUE[r.kind]);
              drain();
            }),
          );
          return;
        }
        reply(r.kind, CONTINUE[r.kind]);
      } else if (mode === 'inline') {
        // After a block Envoy has its answer; anything more still gets its CONTINUE so a
        // peer that keeps sending is never left waiting.
        reply(r.kind, CONTINUE[r.kind]);
      }
      if (r.responseEnded) submit();
    };

    /**
     * A bug here must cost one stream, never the process: grpc-js calls these handlers from
     * its own event emitters, where a throw would escape to the top level.
     */
    const guarded = (fn: () => void): void => {
      try {
        fn();
      } catch (err) {
        metrics.errors.inc({ reason: 'internal' });
        logger.error({ err }, 'ext_proc stream handler failed; stream closed');
        finish('error', err);
      }
    };

    const drain = (): void => {
      while (!busy && !ended && backlog.length > 0) handle(backlog.shift()!);
      if (!busy && halfClosed) finish('eof');
    };

    call.on('data', (msg: ProcessingRequest) => {
      if (ended) return;
      idle.refresh();
      if (busy) backlog.push(msg);
      else guarded(() => handle(msg));
    });
    // Half-close from Envoy: the exchange is over; answer anything pending, then OK.
    // A reset also ends the readable side first; the 'cancelled' that follows within the
    // same turn wins, so the end is counted for what it was.
    call.on('end', () =>
      setImmediate(() =>
        guarded(() => {
          halfClosed = true;
          if (!busy) finish('eof');
        }),
      ),
    );
    call.on('cancelled', () => finish('cancelled'));
    call.on('error', (err: Error) => {
      // Our own status errors come back through this event too (grpc-js turns an 'error'
      // emitted on the call into the stream's status); only foreign ones are logged.
      if (ended) return;
      logger.debug({ err }, 'ext_proc stream error');
      metrics.errors.inc({ reason: 'transport' });
      finish('error');
    });
  };

  const { service } = loadExtProcProtos();
  return {
    definition: service as unknown as Record<string, unknown>,
    implementation: { Process: process },
    activeStreams: () => active,
  };
}
