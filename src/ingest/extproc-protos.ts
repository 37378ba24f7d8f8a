import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { loadPackageDefinition, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';

/*
 * envoy.service.ext_proc.v3 loaded at runtime with @grpc/proto-loader from the Envoy API
 * protos shipped in @grpc/grpc-js-xds (data-plane-api of mid-2024, about Envoy 1.31).
 *
 * Loader options, chosen for this protocol:
 * - keepCase: field names stay as in the proto and in Envoy's docs (`raw_value`,
 *   `observability_mode`, `end_of_stream`), so code and docs read the same.
 * - oneofs: each oneof gets a virtual field naming the member that is set
 *   (`request: 'request_body'`); an empty oneof is detectable as `request` undefined.
 * - defaults: scalars absent on the wire read as their proto3 default (false, 0, empty
 *   Buffer), so `end_of_stream` and `observability_mode` need no undefined checks. Oneof
 *   members are not defaulted, which keeps the oneof check above sound.
 * - enums: String: replies say `status: 'CONTINUE'`, and the driver reads names, not numbers.
 * - longs: String: int64 fields (Duration.seconds) never lose precision; we do not do math on them.
 * - bytes stay Buffers (the default): header `raw_value` and bodies are bytes, not text.
 */
export const EXTPROC_LOADER_OPTIONS: Options = Object.freeze({
  keepCase: true,
  oneofs: true,
  defaults: true,
  enums: String,
  longs: String,
});

const require = createRequire(import.meta.url);

function includeDirs(): string[] {
  const deps = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
  return ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => join(deps, d));
}

/** Header entry of config.core.v3.HeaderMap: Envoy fills `raw_value`, older peers `value`. */
export interface HeaderValue {
  key: string;
  value: string;
  raw_value: Buffer;
}

export interface HeaderMap {
  headers: HeaderValue[];
}

/** google.protobuf.Value as proto-loader decodes it with `oneofs: true`. */
export interface StructValue {
  kind?: 'nullValue' | 'numberValue' | 'stringValue' | 'boolValue' | 'structValue' | 'listValue';
  nullValue?: unknown;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: Struct;
  listValue?: { values: StructValue[] };
}

export interface Struct {
  fields: Record<string, StructValue>;
}

export interface HttpHeaders {
  headers: HeaderMap | null;
  attributes: Record<string, Struct>;
  end_of_stream: boolean;
}

export interface HttpBody {
  body: Buffer;
  end_of_stream: boolean;
}

export interface HttpTrailers {
  trailers: HeaderMap | null;
}

export type ProcessingRequestKind =
  'request_headers' | 'response_headers' | 'request_body' | 'response_body' | 'request_trailers' | 'response_trailers';

/** envoy.service.ext_proc.v3.ProcessingRequest, decoded with EXTPROC_LOADER_OPTIONS. */
export interface ProcessingRequest {
  request?: ProcessingRequestKind;
  request_headers?: HttpHeaders;
  response_headers?: HttpHeaders;
  request_body?: HttpBody;
  response_body?: HttpBody;
  request_trailers?: HttpTrailers;
  response_trailers?: HttpTrailers;
  metadata_context: { filter_metadata: Record<string, Struct> } | null;
  attributes: Record<string, Struct>;
  observability_mode: boolean;
}

/** The header entry shape we write in replies (only one of value / raw_value is set). */
export interface HeaderValueOption {
  header: { key: string; raw_value: Buffer };
  append_action?: 'APPEND_IF_EXISTS_OR_ADD' | 'ADD_IF_ABSENT' | 'OVERWRITE_IF_EXISTS_OR_ADD' | 'OVERWRITE_IF_EXISTS';
}

export interface ImmediateResponse {
  status: { code: number | string };
  headers?: { set_headers: HeaderValueOption[]; remove_headers?: string[] };
  body?: Buffer;
  grpc_status?: { status: number } | null;
  details?: string;
}

type CommonContinue = { response: { status: 'CONTINUE' | 'CONTINUE_AND_REPLACE' } | null };

/** envoy.service.ext_proc.v3.ProcessingResponse, as written (encoding) or read (driver). */
export interface ProcessingResponse {
  response?: ProcessingRequestKind | 'immediate_response';
  request_headers?: CommonContinue;
  response_headers?: CommonContinue;
  request_body?: CommonContinue;
  response_body?: CommonContinue;
  request_trailers?: { header_mutation?: unknown };
  response_trailers?: { header_mutation?: unknown };
  immediate_response?: ImmediateResponse;
}

export const EXTPROC_SERVICE_PATH = '/envoy.service.ext_proc.v3.ExternalProcessor/Process';

/** What the loader returns: the service definition and a client constructor for tests/tools. */
export interface ExtProcProtos {
  service: ServiceDefinition;
  /** grpc-js client constructor for ExternalProcessor (used by the test driver). */
  Client: new (address: string, credentials: unknown, options?: Record<string, unknown>) => unknown;
}

let cached: ExtProcProtos | undefined;

/** Loads (once per process) the ext_proc service. ~90 proto files, well under a second. */
export function loadExtProcProtos(): ExtProcProtos {
  if (cached) return cached;
  const definition = loadSync('envoy/service/ext_proc/v3/external_processor.proto', {
    ...EXTPROC_LOADER_OPTIONS,
    includeDirs: includeDirs(),
  });
  const pkg = loadPackageDefinition(definition) as unknown as {
    envoy: {
      service: { ext_proc: { v3: { ExternalProcessor: ExtProcProtos['Client'] & { service: ServiceDefinition } } } };
    };
  };
  const ctor = pkg.envoy.service.ext_proc.v3.ExternalProcessor;
  cached = { service: ctor.service, Client: ctor };
  return cached;
}
