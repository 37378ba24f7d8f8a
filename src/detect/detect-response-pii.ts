import type { Detector, Finding } from '../core/model.js';
import { responseFinding } from './detect-response-view.js';

/*
 * Personal data in responses: payment card numbers (always; Luhn-checked and restricted to
 * real issuer prefixes, so order numbers and timestamps do not qualify) and national ids
 * (only the formats listed in analysis.response.nationalIds: each country's format is
 * ambiguous enough that it must be an operator's choice). One finding per kind and
 * response, with a count; every value is masked in the fragment.
 */

/** Luhn checksum over a string of digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** Issuer prefixes and lengths of the major card networks. */
function plausibleCard(d: string): boolean {
  const n = d.length;
  if (/^(\d)\1+$/.test(d)) return false;
  if (d[0] === '4') return n === 13 || n === 16 || n === 19; // Visa
  const p2 = Number(d.slice(0, 2));
  const p4 = Number(d.slice(0, 4));
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n === 16; // Mastercard
  if (p2 === 34 || p2 === 37) return n === 15; // Amex
  if (p4 === 6011 || p2 === 65 || (Number(d.slice(0, 3)) >= 644 && Number(d.slice(0, 3)) <= 649))
    return n >= 16 && n <= 19; // Discover
  if (p2 === 35) return n >= 16 && n <= 19; // JCB
  if (p2 === 36 || p2 === 38 || (Number(d.slice(0, 3)) >= 300 && Number(d.slice(0, 3)) <= 305))
    return n >= 14 && n <= 19; // Diners
  if (p2 === 62) return n >= 16 && n <= 19; // UnionPay
  return false;
}

/** 13–19 digits, optionally grouped by single spaces or dashes, not inside a longer number. */
const CARD = /(?<![\d.-])\d(?:[ -]?\d){12,18}(?![\d-]|\.\d)/g;

const DNI_LETTERS = 'TRWAGMYFPDXBNJZSQVHLCKE';

interface IdFormat {
  ruleId: string;
  label: string;
  pattern: RegExp;
  valid?: (m: string) => boolean;
}

/** National id formats, by the name used in analysis.response.nationalIds. */
const NATIONAL_IDS: Readonly<Record<string, IdFormat>> = {
  us_ssn: {
    ruleId: 'ST-RESP-PII-US-SSN',
    label: 'US social security number',
    pattern: /\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b/g,
  },
  uk_nino: {
    ruleId: 'ST-RESP-PII-UK-NINO',
    label: 'UK national insurance number',
    pattern: /\b(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b/g,
  },
  fr_nir: {
    ruleId: 'ST-RESP-PII-FR-NIR',
    label: 'French social security number (NIR)',
    pattern: /\b[12] ?\d{2} ?(?:0[1-9]|1[0-2]) ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}\b/g,
    valid(m) {
      const s = m.replace(/ /g, '');
      const body = s.slice(0, 13).replace('2A', '19').replace('2B', '18');
      return 97 - Number(BigInt(body) % 97n) === Number(s.slice(13));
    },
  },
  es_dni: {
    ruleId: 'ST-RESP-PII-ES-DNI',
    label: 'Spanish DNI',
    pattern: /\b\d{8}-?[A-HJ-NP-TV-Z]\b/g,
    valid: (m) => DNI_LETTERS[Number(m.slice(0, 8)) % 23] === m[m.length - 1],
  },
  it_cf: {
    ruleId: 'ST-RESP-PII-IT-CF',
    label: 'Italian codice fiscale',
    pattern: /\b[A-Z]{6}\d{2}[A-EHLMPR-T]\d{2}[A-Z]\d{3}[A-Z]\b/g,
  },
};

function maskId(value: string): string {
  return value.replace(/[A-Za-z0-9](?=(?:[^A-Za-z0-9]*[A-Za-z0-9]){2})/g, '*');
}

/** Caps matches counted per kind: the count is a signal, not an inventory. */
const MAX_MATCHES = 1000;

/** Card numbers (Luhn) and configured national ids in responses, masked. */
export const responsePiiDetector: Detector = {
  id: 'response-pii',
  inspectResponse(_exchange, ctx) {
    const { text } = ctx.response;
    if (text === '') return [];
    const out: Finding[] = [];
    let cards = 0;
    let first = '';
    for (const m of text.matchAll(CARD)) {
      const digits = m[0].replace(/[ -]/g, '');
      if (!plausibleCard(digits) || !luhnValid(digits)) continue;
      if (cards === 0) first = `${'*'.repeat(digits.length - 4)}${digits.slice(-4)}`;
      if (++cards >= MAX_MATCHES) break;
    }
    if (cards > 0) {
      out.push(
        responseFinding({
          attackType: 'leak_pii',
          ruleId: 'ST-RESP-PII-CARD',
          severity: 'high',
          confidence: cards > 1 ? 0.95 : 0.8,
          fragment: cards > 1 ? `${first} (+${cards - 1} more)` : first,
          reason: `${cards} payment card number${cards > 1 ? 's' : ''} (Luhn-valid) in the response`,
        }),
      );
    }
    for (const name of ctx.nationalIds) {
      const format = NATIONAL_IDS[name];
      if (!format) continue;
      let count = 0;
      let sample = '';
      for (const m of text.matchAll(format.pattern)) {
        if (format.valid && !format.valid(m[0])) continue;
        if (count === 0) sample = maskId(m[0]);
        if (++count >= MAX_MATCHES) break;
      }
      if (count === 0) continue;
      out.push(
        responseFinding({
          attackType: 'leak_pii',
          ruleId: format.ruleId,
          severity: 'high',
          confidence: count > 1 ? 0.9 : 0.7,
          fragment: count > 1 ? `${sample} (+${count - 1} more)` : sample,
          reason: `${count} ${format.label}${count > 1 ? 's' : ''} in the response`,
        }),
      );
    }
    return out;
  },
};
