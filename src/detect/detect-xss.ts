import type { Detector } from '../core/model.js';

/** Placeholder replaced by the HTML-tokenizer XSS detector (issue 4). */
export const xssDetector: Detector = { id: 'xss', inspectPoint: () => [] };
