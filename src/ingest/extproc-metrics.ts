import { Counter, Gauge, type Registry } from 'prom-client';

/** The ext_proc server's own metrics (`shadowtap_extproc_*`), on the instance's registry. */
export interface ExtProcMetrics {
  /** Streams ended, by mode (observability | inline) and how they ended. */
  streams: Counter<'mode' | 'end'>;
  active: Gauge;
  /** ProcessingRequest messages received, by type (request_headers, …). */
  messages: Counter<'type'>;
  /** ProcessingResponse messages sent, by type (CONTINUE replies and immediate_response). */
  replies: Counter<'type'>;
  /** Streams closed by shadowtap, by reason (out_of_order, empty_request, too_many_streams, …). */
  errors: Counter<'reason'>;
  /** Requests answered with immediate_response, by attack type. */
  blocked: Counter<'attack_type'>;
  /** Blocking decisions that let the request through without a verdict (deadline, shed, error). */
  failOpen: Counter<'reason'>;
  /** Exchanges admission did not take at stream end (the reply was already sent), by reason. */
  shed: Counter<'reason'>;
}

export function createExtProcMetrics(registry: Registry): ExtProcMetrics {
  const registers = [registry];
  return {
    streams: new Counter({
      name: 'shadowtap_extproc_streams_total',
      help: 'ext_proc streams ended, by mode and end',
      labelNames: ['mode', 'end'],
      registers,
    }),
    active: new Gauge({ name: 'shadowtap_extproc_streams_active', help: 'ext_proc streams open', registers }),
    messages: new Counter({
      name: 'shadowtap_extproc_messages_total',
      help: 'ext_proc messages received, by type',
      labelNames: ['type'],
      registers,
    }),
    replies: new Counter({
      name: 'shadowtap_extproc_replies_total',
      help: 'ext_proc replies sent, by type',
      labelNames: ['type'],
      registers,
    }),
    errors: new Counter({
      name: 'shadowtap_extproc_errors_total',
      help: 'ext_proc streams closed with an error, by reason',
      labelNames: ['reason'],
      registers,
    }),
    blocked: new Counter({
      name: 'shadowtap_extproc_blocked_total',
      help: 'Requests blocked with immediate_response, by attack type',
      labelNames: ['attack_type'],
      registers,
    }),
    failOpen: new Counter({
      name: 'shadowtap_extproc_fail_open_total',
      help: 'Blocking decisions that failed open, by reason',
      labelNames: ['reason'],
      registers,
    }),
    shed: new Counter({
      name: 'shadowtap_extproc_shed_total',
      help: 'ext_proc exchanges shed at admission, by reason',
      labelNames: ['reason'],
      registers,
    }),
  };
}
