import { credentials, Metadata, type ChannelCredentials, type ChannelOptions } from '@grpc/grpc-js';
import { resolveConfig, type Options, mergeOptions } from '../../src/config/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { startShadowtap, type Shadowtap } from '../../src/server.js';
import {
  DetectionServiceClient,
  type SubscribeResponse,
  type SubscribeRequest,
} from '../../src/gen/shadowtap/v1/detection_service.js';
import type { Detection } from '../../src/gen/shadowtap/v1/detection.js';

/** Starts a real shadowtap on ephemeral loopback ports. */
export async function startTestServer(options: Options = {}): Promise<Shadowtap> {
  const base: Options = {
    log: { level: 'silent' },
    // Both shadow ports ephemeral: app.ports.shadow (shared) and app.ports.shadowH2c (h2c only).
    shadow: { host: '127.0.0.1', port: 0, h2cPort: 0 },
    grpc: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    admission: { workers: 1 },
    // E2E tests are about plumbing; on a loaded 2-core machine a wall-clock budget would cut
    // analyses at random. The budget itself is tested directly (detect tests, pool tests).
    analysis: { limits: { budgetMs: 2000 } },
    shutdownTimeoutMs: 3000,
  };
  const config = resolveConfig(
    mergeOptions(base as Record<string, unknown>, options as Record<string, unknown>) as Options,
  );
  return startShadowtap(config, { logger: silentLogger() });
}

/** A subscriber that collects every event; `until` waits for a condition. */
export function subscribe(grpcPort: number, request: Partial<SubscribeRequest> = {}, opts: ClientOptions = {}) {
  const client = grpcClient(grpcPort, opts);
  const events: SubscribeResponse[] = [];
  const call = client.subscribe({ resumeAfterSequence: 0, ...request }, opts.metadata ?? new Metadata());
  let ended: Error | null | undefined;
  const listeners = new Set<() => void>();
  const notify = (): void => {
    for (const l of listeners) l();
  };
  call.on('data', (ev: SubscribeResponse) => {
    events.push(ev);
    notify();
  });
  call.on('error', (err: Error) => {
    ended = err;
    notify();
  });
  call.on('end', () => {
    ended = null;
    notify();
  });
  const detections = (): Detection[] => events.flatMap((e) => (e.event?.$case === 'detection' ? [e.event.value] : []));
  return {
    client,
    call,
    events,
    detections,
    get ended() {
      return ended;
    },
    /** Resolves when predicate() holds, rejects after timeoutMs. */
    until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
      if (predicate()) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (predicate()) {
            clearTimeout(timer);
            listeners.delete(check);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`condition not met within ${timeoutMs} ms; got ${events.length} events`));
        }, timeoutMs);
        listeners.add(check);
      });
    },
    close(): void {
      call.cancel();
      client.close();
    },
  };
}

/** How a test client connects (defaults: insecure, 127.0.0.1, no metadata). */
export interface ClientOptions {
  credentials?: ChannelCredentials;
  /** Host part of the address, e.g. 'localhost' to match a test certificate. */
  host?: string;
  metadata?: Metadata;
  channelOptions?: ChannelOptions;
}

/** A DetectionService client for a test server. */
export function grpcClient(grpcPort: number, opts: ClientOptions = {}): DetectionServiceClient {
  return new DetectionServiceClient(
    `${opts.host ?? '127.0.0.1'}:${grpcPort}`,
    opts.credentials ?? credentials.createInsecure(),
    opts.channelOptions ?? {},
  );
}

/** Waits until the subscription is registered with the hub (Subscribe is asynchronous). */
export async function waitForSubscribers(app: Shadowtap, n: number, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  while (app.hub.subscriberCount() < n) {
    if (Date.now() - start > timeoutMs) throw new Error(`only ${app.hub.subscriberCount()} subscribers`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Reads one metric's value from the instance's registry. */
export async function metricValue(app: Shadowtap, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = app.metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, l]) => String((v.labels as Record<string, unknown>)[k]) === l))
    .reduce((a, v) => a + v.value, 0);
}
