import type { Detector } from '../core/model.js';
import { responseDirectoryListingDetector } from './detect-response-directory-listing.js';
import { responsePiiDetector } from './detect-response-pii.js';
import { responseSecretsDetector } from './detect-response-secrets.js';
import { responseSqlErrorsDetector } from './detect-response-sql-errors.js';
import { responseStackTracesDetector } from './detect-response-stack-traces.js';
import { sqliDetector } from './detect-sqli.js';
import { xssDetector } from './detect-xss.js';

/**
 * Every detector shadowtap runs, in order. A new detector is one new `detect-*.ts` file
 * exporting a `Detector`, plus one line here.
 */
export const DETECTORS: readonly Detector[] = Object.freeze([
  sqliDetector,
  xssDetector,
  responseSqlErrorsDetector,
  responseStackTracesDetector,
  responseDirectoryListingDetector,
  responseSecretsDetector,
  responsePiiDetector,
]);
