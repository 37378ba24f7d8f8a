import type { Detector } from '../core/model.js';
import { sqliDetector } from './detect-sqli.js';
import { xssDetector } from './detect-xss.js';

/**
 * Every detector shadowtap runs, in order. A new detector is one new `detect-*.ts` file
 * exporting a `Detector`, plus one line here.
 */
export const DETECTORS: readonly Detector[] = Object.freeze([sqliDetector, xssDetector]);
