import type { DecodedRequest, DetectContext, Detector, Finding } from '../core/model.js';
import { addFinding, type Rule } from './detect-kit.js';

/*
 * Security scanners and attack tools, recognised by the user agents and headers they send
 * by default (CRS 913100 family). Generic HTTP libraries (curl, python-requests, Go) are what
 * integrations use and are never reported.
 */

const R = {
  agent: { id: 'ST-SCAN-001', attackType: 'scanner', severity: 'medium' },
  header: { id: 'ST-SCAN-002', attackType: 'scanner', severity: 'medium' },
  oob: { id: 'ST-SCAN-003', attackType: 'scanner', severity: 'high' },
} satisfies Record<string, Rule>;

/** Scanner and attack-tool user agents (case-insensitive, word-bounded where names are short). */
const SCANNER_UA =
  /\b(sqlmap|nikto|nuclei|acunetix|netsparker|invicti|nessus|openvas|w3af|wpscan|joomscan|droopescan|dirbuster|dirb|gobuster|feroxbuster|ffuf|fuzz faster u fool|wfuzz|dirsearch|masscan|zgrab|nmap scripting engine|nmap|arachni|skipfish|whatweb|wapiti|jaeles|xray|commix|havij|hydra|medusa|sqlninja|brutus|paros|webinspect|appscan|qualys|burp(?:suite| collaborator)?|owasp[ _-]?zap|zaproxy|morfeus|zmeu|jorgee|webshag|nessus|metasploit|blackwidow|httprint|bsqlbf|sqlsus|pangolin|netcraft ssl|absinthe|crimscanner|fimap|cgichk|webvulnscan|struts-pwn|log4j-scan|interactsh|dalfox|katana|hakrawler|subfinder|naabu|httpx - open-source|projectdiscovery|censysinspect|expanse|internet-measurement|l9explore|l9tcpid|zoomeye|shodan)\b/i;

/** Headers only scanners send. */
const SCANNER_HEADERS = new Set([
  'acunetix-product',
  'acunetix-scanning-agreement',
  'acunetix-user-agreement',
  'acunetix-aspect',
  'acunetix-aspect-password',
  'acunetix-aspect-queries',
  'x-scanner',
  'x-wipp',
  'x-requestmanager-memo',
  'x-request-memo',
  'x-scan-memo',
  'x-burp',
  'x-bug-bounty',
  'x-hackerone',
  'x-bugcrowd',
  'x-nuclei',
  'x-arachni-scan-seed',
]);

const OOB =
  /(?:^|[.@/\s])([\w-]+\.)*(?:burpcollaborator\.net|oastify\.com|interact\.sh|interactsh\.com|oast\.(?:fun|me|pro|live|site|online)|dnslog\.cn|ceye\.io|canarytokens\.com|bxss\.me|xss\.ht)\b/i;

/** Scanner / attack-tool detector (request-level, headers). */
export const scannerDetector: Detector = {
  id: 'scanner',
  inspectRequest(req: DecodedRequest, ctx: DetectContext): Finding[] {
    const out: Finding[] = [];
    for (const [name, value] of req.headers.slice(0, 256)) {
      if (name === 'user-agent') {
        const m = SCANNER_UA.exec(value);
        if (m) addFinding(out, ctx, R.agent, 0.9, value, `scanner user agent (${m[1]})`, 'header.user-agent');
      }
      if (SCANNER_HEADERS.has(name))
        addFinding(
          out,
          ctx,
          R.header,
          0.9,
          `${name}: ${value.slice(0, 80)}`,
          `scanner header ${name}`,
          `header.${name}`,
        );
      if (value.length < 4096) {
        const o = OOB.exec(value);
        if (o)
          addFinding(
            out,
            ctx,
            R.oob,
            0.85,
            value.slice(0, 200),
            `out-of-band callback domain in header ${name}`,
            `header.${name}`,
          );
      }
    }
    return out;
  },
};
