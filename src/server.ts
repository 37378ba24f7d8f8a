import type { Config } from './config/config.js';
import type { Logger } from './core/logger.js';
import { createCoreMetrics, type CoreMetrics, type HotCounter } from './core/metrics.js';
import { createAdmission, type Admission } from './admission/admission-queue.js';
import { createDetectPool } from './admission/detect-pool.js';
import { createShadowListener } from './ingest/shadow-listener.js';
import { createExtProcMetrics } from './ingest/extproc-metrics.js';
import { createExtProcService } from './ingest/extproc-service.js';
import { createAdminServer } from './admin/admin-server.js';
import { createDetectionService, type ServiceRegistration } from './publish/detection-service.js';
import { grpcServerCredentials } from './publish/grpc-credentials.js';
import { createGrpcServer } from './publish/grpc-server.js';
import { createPublisher, type DetectionSink } from './publish/publisher.js';
import { createRedactor } from './publish/redact.js';
import { createReporter } from './publish/reporter/reporter.js';
import { createStreamHub, type StreamHub } from './publish/stream-hub.js';

/** A running shadowtap: every listener, the pool and the hub, closed together. */
export interface Shadowtap {
  readonly config: Config;
  readonly metrics: CoreMetrics;
  readonly hub: StreamHub;
  readonly admission: Admission;
  /** Bound ports (useful when the config asked for port 0); shadowH2c is undefined when shadow.h2cPort is false. */
  readonly ports: { shadow: number; shadowH2c: number | undefined; grpc: number; admin: number };
  /** Graceful stop: stop accepting, drain the queue, end streams, all within shutdownTimeoutMs. */
  close(): Promise<void>;
}

async function sum(counter: HotCounter<string>): Promise<{ total: number; byLabel: Record<string, number> }> {
  const { values } = await counter.get();
  const byLabel: Record<string, number> = {};
  let total = 0;
  for (const v of values) {
    total += v.value;
    const label = Object.values(v.labels)[0];
    if (label !== undefined) byLabel[String(label)] = (byLabel[String(label)] ?? 0) + v.value;
  }
  return { total, byLabel };
}

/** Starts shadowtap with a validated config (see config/config.ts). */
export async function startShadowtap(
  config: Config,
  opts: { logger: Logger; sinks?: readonly DetectionSink[]; extraServices?: readonly ServiceRegistration[] },
): Promise<Shadowtap> {
  const { logger } = opts;
  // Before anything binds or starts: an unsafe gRPC bind or unreadable TLS file stops startup.
  const grpcCredentials = grpcServerCredentials(config.grpc, logger.child({ component: 'grpc' }));
  const metrics = createCoreMetrics();
  const hub = createStreamHub(config.hub, { registry: metrics.registry, logger: logger.child({ component: 'hub' }) });
  // Upstream sinks open their spools first: what a previous run left is replayed before new data.
  const reporter =
    config.reporter.sinks.length > 0
      ? await createReporter({ config: config.reporter, logger, registry: metrics.registry })
      : undefined;
  const publisher = createPublisher({
    hub,
    redactor: createRedactor(config.redaction),
    metrics,
    sinks: [...(reporter ? [reporter] : []), ...(opts.sinks ?? [])],
  });
  const pool = createDetectPool({
    workers: config.admission.workers,
    analysis: config.analysis,
    nice: config.admission.workerNice,
    youngGenerationMb: config.admission.workerYoungGenerationMb,
  });
  const admission = createAdmission({
    config: config.admission,
    pool,
    metrics,
    logger: logger.child({ component: 'admission' }),
    onResult: (result, options, exchange) => {
      if (options.publish !== false && result.findings.length > 0) publisher.publish(exchange(), result);
    },
  });
  let closing = false;
  const listener = createShadowListener({
    config: config.shadow,
    maxBodyBytes: config.analysis.limits.maxBodyBytes,
    pipeline: admission,
    metrics,
    logger: logger.child({ component: 'shadow-listener' }),
    ready: () => !closing,
  });
  const detectionService = createDetectionService({
    hub,
    logger: logger.child({ component: 'detection-service' }),
    authToken: config.grpc.authToken,
    maxSubscribers: config.grpc.maxSubscribers,
    stats: async () => {
      const [received, analyzed, shed, rejected, detections] = await Promise.all(
        [metrics.received, metrics.analyzed, metrics.shed, metrics.rejected, metrics.detections].map((c) => sum(c)),
      );
      return {
        received: received!.total,
        analyzed: analyzed!.total,
        shed: shed!.total,
        rejected: rejected!.total,
        detections: detections!.total,
        shedByReason: shed!.byLabel,
        detectionsByType: detections!.byLabel,
      };
    },
  });
  const extProc = createExtProcService({
    config: config.extProc,
    maxRequestBodyBytes: config.analysis.limits.maxBodyBytes,
    xffTrustedHops: config.shadow.xffTrustedHops,
    pipeline: admission,
    metrics: createExtProcMetrics(metrics.registry),
    logger: logger.child({ component: 'ext-proc' }),
  });
  const grpc = createGrpcServer({
    config: config.grpc,
    services: [detectionService, extProc, ...(opts.extraServices ?? [])],
    logger: logger.child({ component: 'grpc' }),
    credentials: grpcCredentials,
  });
  const admin = createAdminServer({
    config: config.admin,
    registry: metrics.registry,
    ready: () => !closing,
    logger: logger.child({ component: 'admin' }),
  });

  const [shadowPorts, grpcPort, adminPort] = await Promise.all([listener.start(), grpc.start(), admin.start()]);
  const timeout = config.shutdownTimeoutMs;

  return {
    config,
    metrics,
    hub,
    admission,
    ports: { shadow: shadowPorts.shared, shadowH2c: shadowPorts.h2c, grpc: grpcPort, admin: adminPort },
    async close() {
      if (closing) return;
      closing = true;
      grpc.markNotServing();
      const started = Date.now();
      const left = (): number => Math.max(100, timeout - (Date.now() - started));
      // Order matters: stop taking traffic, finish what was admitted, then end the streams
      // so subscribers see every detection made from admitted traffic.
      await listener.close(Math.min(left(), 2000));
      await admission.close(left());
      await pool.close(left());
      hub.close();
      // Unsent batches go to the spool when the deadline passes: nothing promised is lost.
      await reporter?.close(left());
      await grpc.close(left());
      await admin.close(Math.min(left(), 1000));
      logger.info('shadowtap stopped');
    },
  };
}
