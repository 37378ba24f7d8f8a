import type { Detector } from '../core/model.js';
import { responseDirectoryListingDetector } from './detect-response-directory-listing.js';
import { responsePiiDetector } from './detect-response-pii.js';
import { responseSecretsDetector } from './detect-response-secrets.js';
import { responseSqlErrorsDetector } from './detect-response-sql-errors.js';
import { responseStackTracesDetector } from './detect-response-stack-traces.js';
import { responseWebShellsDetector } from './detect-response-web-shells.js';
import { deserializationDetector } from './detect-deserialization.js';
import { crlfDetector } from './detect-crlf.js';
import { graphqlAbuseDetector } from './detect-graphql-abuse.js';
import { ldapDetector } from './detect-ldap.js';
import { log4shellDetector } from './detect-log4shell.js';
import { nosqlDetector } from './detect-nosql.js';
import { pathTraversalDetector } from './detect-path-traversal.js';
import { protocolDetector } from './detect-protocol.js';
import { prototypePollutionDetector } from './detect-prototype-pollution.js';
import { scannerDetector } from './detect-scanner.js';
import { ssiDetector } from './detect-ssi.js';
import { ssrfDetector } from './detect-ssrf.js';
import { sstiDetector } from './detect-ssti.js';
import { xpathDetector } from './detect-xpath.js';
import { xxeDetector } from './detect-xxe.js';
import { sqliDetector } from './detect-sqli.js';
import { xssDetector } from './detect-xss.js';
import { rceDetector } from './detect-rce.js';
import { codeInjectionDetector } from './detect-code-injection.js';

/**
 * Every detector shadowtap runs, in order. A new detector is one new `detect-*.ts` file
 * exporting a `Detector`, plus one line here.
 */
export const DETECTORS: readonly Detector[] = Object.freeze([
  sqliDetector,
  xssDetector,
  rceDetector,
  codeInjectionDetector,
  responseSqlErrorsDetector,
  responseStackTracesDetector,
  responseDirectoryListingDetector,
  responseSecretsDetector,
  responsePiiDetector,
  responseWebShellsDetector,
  deserializationDetector,
  crlfDetector,
  graphqlAbuseDetector,
  ldapDetector,
  log4shellDetector,
  nosqlDetector,
  pathTraversalDetector,
  protocolDetector,
  prototypePollutionDetector,
  scannerDetector,
  ssiDetector,
  ssrfDetector,
  sstiDetector,
  xpathDetector,
  xxeDetector,
]);
