import type { Detector } from '../core/model.js';
import { responseFinding, snippet } from './detect-response-view.js';

/*
 * A response that is a known web shell's page means the host is already compromised and the
 * request was its operator (or a scanner finding it). Signatures are the shells' own page
 * titles and banners, as catalogued by CRS rules 955xxx.
 */
const SHELLS: ReadonlyArray<[name: string, pattern: RegExp]> = [
  ['NCC Shell', /\.:NCC:\. Shell v/],
  ['Simple PHP backdoor', /Simple PHP backdoor by DK/],
  ['WinX Shell', /-:\[GreenwooD\]:- WinX Shell/],
  ['r57 Shell', /<title>r57 Shell Version [\d.]+/i],
  ['c99 shell', /<title>[^<]{0,80}\bc99shell\b|C99Shell v\. ?[\d.]+/i],
  ['WSO', /<title>[^<]{0,120}\bWSO \d[\d.]*<\/title>/i],
  ['b374k', /\bb374k (?:shell|m1n1)\b|<title>b374k/i],
  ['Ru24PostWebShell', /<title>Ru24PostWebShell/],
  ['Akmal archtte id', /<title>Webshell Akmal archtte id/],
  ['ASPYDrv', /<title>ASPYDrvsInfo<\/title>/],
  ['RHTOOLS', /<title>RHTOOLS/],
  ['FilesMan', /<input type=hidden name=a value=['"]?FilesMan/i],
];

/** Known web shell pages in responses (CRS 955xxx signatures). */
export const responseWebShellsDetector: Detector = {
  id: 'response-web-shells',
  inspectResponse(_exchange, ctx) {
    const { text } = ctx.response;
    if (text === '') return [];
    for (const [name, pattern] of SHELLS) {
      const m = pattern.exec(text);
      if (!m) continue;
      return [
        responseFinding({
          attackType: 'web_shell',
          ruleId: 'ST-RESP-WEBSHELL',
          severity: 'critical',
          confidence: 0.95,
          fragment: snippet(text, m.index, m[0].length, 0),
          reason: `${name} web shell page in the response`,
        }),
      ];
    }
    return [];
  },
};
