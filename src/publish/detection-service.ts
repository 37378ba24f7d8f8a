import type { ServerWritableStream, sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import type { Logger } from '../core/logger.js';
import {
  DetectionServiceService,
  type DetectionServiceServer,
  type GetStatsRequest,
  type GetStatsResponse,
  type ListDetectionsRequest,
  type ListDetectionsResponse,
  type SubscribeRequest,
  SubscribeResponse,
} from '../gen/shadowtap/v1/detection_service.js';
import type { Detection } from '../gen/shadowtap/v1/detection.js';
import { ERR_INVALID_ARGUMENT, ERR_TOO_MANY_SUBSCRIBERS } from '../core/errors.js';
import { createBearerAuth } from './grpc-auth.js';
import { toGrpcError } from './grpc-status.js';
import type { HubSubscription, StreamHub } from './stream-hub.js';

/** Events written per turn before yielding to other streams. */
const WRITE_BATCH = 64;

export interface ServiceRegistration {
  definition: typeof DetectionServiceService | Record<string, unknown>;
  implementation: Record<string, unknown>;
  /**
   * proto-loader package definition that describes this service, for server reflection
   * (optional: a service without one is served but not listed by reflection).
   */
  reflection?: Record<string, unknown>;
}

/**
 * Resolves when the call can take more writes, or has gone away. grpc-js `write()` returns
 * false once its buffer passes the high-water mark, which follows HTTP/2 flow control: a
 * consumer that stops reading stops us writing, and the hub cursor holds its place.
 */
function writable(
  call: ServerWritableStream<SubscribeRequest, SubscribeResponse>,
  sub: HubSubscription,
): Promise<void> {
  return new Promise<void>((resolve) => {
    let offEnd = (): void => undefined;
    const done = (): void => {
      call.off('drain', done);
      call.off('cancelled', done);
      call.off('close', done);
      offEnd();
      resolve();
    };
    call.on('drain', done);
    call.on('cancelled', done);
    call.on('close', done);
    // The hub may end the subscription (slow consumer, shutdown) while the peer reads nothing.
    offEnd = sub.onEnd(done);
  });
}

/**
 * DetectionService's definition with a Subscribe serializer that encodes each detection once:
 * the hub hands every subscriber the same stored Detection object, so with N subscribers the
 * protobuf encoding would otherwise be done N times. Entries go with their detection (WeakMap).
 */
function sharedEncodingDefinition(): typeof DetectionServiceService {
  const encoded = new WeakMap<Detection, Buffer>();
  const serialize = (value: SubscribeResponse): Buffer => {
    if (value.event?.$case !== 'detection') return Buffer.from(SubscribeResponse.encode(value).finish());
    const d = value.event.value;
    let buf = encoded.get(d);
    if (buf === undefined) {
      buf = Buffer.from(SubscribeResponse.encode(value).finish());
      encoded.set(d, buf);
    }
    return buf;
  };
  return {
    ...DetectionServiceService,
    subscribe: { ...DetectionServiceService.subscribe, responseSerialize: serialize },
  };
}

/** Statistics the service reports; provided by the server that owns the counters. */
export type StatsProvider = () => Promise<
  Omit<GetStatsResponse, 'lastSequence' | 'oldestRetainedSequence' | 'subscribers'>
>;

/** Options of {@link createDetectionService}. */
export interface DetectionServiceOptions {
  hub: StreamHub;
  logger: Logger;
  stats: StatsProvider;
  /** When set, every call must carry `authorization: Bearer <authToken>`. */
  authToken?: string | undefined;
  /** Concurrent Subscribe calls; more are refused with RESOURCE_EXHAUSTED. */
  maxSubscribers?: number;
}

/**
 * The DetectionService handlers. Authentication is checked here, in every handler, rather
 * than by a server-wide interceptor: other services on the same server (Envoy's ext_proc,
 * health, reflection) must stay reachable without a token.
 */
export function createDetectionService(opts: DetectionServiceOptions): ServiceRegistration {
  const { hub, logger, stats } = opts;
  const authenticate = createBearerAuth(opts.authToken);
  const maxSubscribers = opts.maxSubscribers ?? Number.POSITIVE_INFINITY;
  const implementation: DetectionServiceServer = {
    subscribe(call) {
      const denied = authenticate(call.metadata);
      if (denied) {
        call.emit('error', toGrpcError(denied));
        return;
      }
      if (hub.subscriberCount() >= maxSubscribers) {
        call.emit('error', toGrpcError(ERR_TOO_MANY_SUBSCRIBERS(maxSubscribers)));
        return;
      }
      const sub = hub.subscribe({
        filter: call.request.filter,
        resumeAfterSequence: call.request.resumeAfterSequence,
      });
      let gone = false;
      call.on('cancelled', () => {
        gone = true;
        sub.close();
      });
      const pump = async (): Promise<void> => {
        while (!gone && !sub.closed) {
          const events = sub.read(WRITE_BATCH);
          if (events.length === 0) {
            await sub.wait();
            continue;
          }
          for (const ev of events) {
            if (!call.write(ev) && !gone && !sub.closed) await writable(call, sub);
          }
        }
        if (gone) return;
        if (sub.error) call.emit('error', toGrpcError(sub.error));
        else call.end();
      };
      pump().catch((err: unknown) => {
        logger.error({ err }, 'subscription failed');
        sub.close();
        call.emit('error', toGrpcError(err));
      });
    },
    listDetections(
      call: ServerUnaryCall<ListDetectionsRequest, ListDetectionsResponse>,
      callback: sendUnaryData<ListDetectionsResponse>,
    ) {
      const denied = authenticate(call.metadata);
      if (denied) return callback(toGrpcError(denied));
      const { pageSize, pageToken, filter } = call.request;
      const after = pageToken === '' ? 0 : Number(pageToken);
      if (!Number.isSafeInteger(after) || after < 0) {
        callback(
          toGrpcError(ERR_INVALID_ARGUMENT(`page_token ${JSON.stringify(pageToken)} is not one this server issued`)),
        );
        return;
      }
      const limit = Math.min(pageSize === 0 ? 100 : pageSize, 1000);
      const detections = hub.list(after, limit, filter);
      const lastSeen = detections.length > 0 ? detections[detections.length - 1]!.sequence : after;
      const more = detections.length === limit && lastSeen < hub.lastSequence();
      callback(null, { detections, nextPageToken: more ? String(lastSeen) : '' });
    },
    getStats(call: ServerUnaryCall<GetStatsRequest, GetStatsResponse>, callback: sendUnaryData<GetStatsResponse>) {
      const denied = authenticate(call.metadata);
      if (denied) return callback(toGrpcError(denied));
      stats().then(
        (s) =>
          callback(null, {
            ...s,
            lastSequence: hub.lastSequence(),
            oldestRetainedSequence: hub.oldestSequence(),
            subscribers: hub.subscriberCount(),
          }),
        (err: unknown) => callback(toGrpcError(err)),
      );
    },
  };
  return {
    definition: sharedEncodingDefinition(),
    implementation: implementation as unknown as Record<string, unknown>,
  };
}
