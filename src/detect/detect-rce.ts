import type { Detector, Hit } from '../core/model.js';
import { discountMarkdownCode, selectHits } from './detect-util.js';
import { percentDecode } from './normalize.js';
import { nestedArithmetic } from './rce-arith-expansion.js';
import { sqliteDotCommands } from './rce-sqlite-dot.js';
import { isAssignment, tokenizeShell, type ShellCommand, type ShellWord } from './shell-tokenizer.js';
import type { GrammarRule as Rule, RuleCandidate as Candidate } from './detect-util.js';

/**
 * OS command injection. Each value is split into shell commands (see shell-tokenizer.ts), in the
 * as-is context and after closing a `'` or `"` argument; each command is scored from what
 * introduced it (a separator, a substitution, the start of the value), what it runs (known
 * binaries in two tiers: names that are not English words, and names that are, like `cat`,
 * `more`, `find`, `time`, `id`), the shape of its arguments (flags, paths, URLs, addresses,
 * redirections, pipes into a shell) and the evasions needed to write it. English prose has
 * commands' words but not their shapes, so "cat and dog" or "I'll ping you | ok" stay quiet.
 *
 * Rule ids: ST-RCE-001 command chained after a separator · 002 command substitution ·
 * 003 obfuscated command · 004 Shellshock · 005 reverse shell / download-and-execute ·
 * 006 Windows cmd syntax · 007 PowerShell · 008 value is a command line · 009 mail protocol
 * command injection (SMTP/IMAP/POP3) · 010 fork bomb.
 */

const RULES = {
  chained: { id: 'ST-RCE-001', severity: 'critical', reason: 'OS command chained after a shell separator' },
  substitution: { id: 'ST-RCE-002', severity: 'critical', reason: 'command substitution ($(), backticks)' },
  evasion: {
    id: 'ST-RCE-003',
    severity: 'critical',
    reason: 'obfuscated command name (quotes, escapes, ${IFS}, globs)',
  },
  shellshock: { id: 'ST-RCE-004', severity: 'critical', reason: 'Shellshock function definition' },
  reverse: { id: 'ST-RCE-005', severity: 'critical', reason: 'reverse shell or download-and-execute' },
  windows: { id: 'ST-RCE-006', severity: 'high', reason: 'Windows cmd syntax (for/if/cmd /c, %VAR%)' },
  powershell: { id: 'ST-RCE-007', severity: 'high', reason: 'PowerShell command execution' },
  commandLine: { id: 'ST-RCE-008', severity: 'high', reason: 'value is an OS command line' },
  mail: { id: 'ST-RCE-009', severity: 'medium', reason: 'mail protocol command injected after CR/LF' },
  forkBomb: { id: 'ST-RCE-010', severity: 'high', reason: 'shell fork bomb' },
} as const satisfies Record<string, Rule>;

const words = (s: string): Set<string> => new Set(s.split(/\s+/).filter(Boolean));

/** Binaries whose names are not English words: seeing one run is evidence by itself. */
const TIER1 = words(`
  whoami uname ifconfig ipconfig netstat nslookup wget curl nc ncat netcat socat telnet bash sh zsh ksh dash tcsh csh
  fish busybox powershell pwsh cmd python python2 python3 perl ruby php lua luajit node nodejs deno jrunscript jjs
  chmod chown chgrp useradd adduser usermod userdel groupadd passwd chpasswd visudo sudo doas nohup setsid mkfifo
  mknod base64 base32 xxd hexdump certutil bitsadmin mshta rundll32 regsvr32 wmic tasklist taskkill schtasks vssadmin
  cscript wscript systeminfo msiexec reg netsh icacls takeown whoami.exe lwp-download lwp-request tftp ftp sftp scp
  ssh rsync xterm htop btop bcdboot bcdedit regedit diskshadow ntdsutil msbuild installutil cmstp forfiles pcalua zstdcat xzcat lzcat rmt lastlog lastlogin ssh-copy-id pipx uconv bsdtar gcc g++ c89 c99 clang tcc gdb strace ltrace cpulimit flock ansible ansible-playbook ansible-galaxy
  ansible-config ansible-console ansible-doc ansible-inventory ansible-pull ansible-vault chef-client chef-run
  chef-shell chef-solo chef-vault cscli printenv crontab iptables ip6tables lsof dmesg modprobe insmod rmmod lsmod
  chattr lsattr setfacl getfacl chroot nsenter unshare capsh getcap setcap openssl docker kubectl runc ctr crictl
  podman systemctl journalctl poweroff telinit killall pkill pgrep xargs awk gawk mawk nawk sed perl5 irb jshell
  tclsh gimp-console msfconsole msfvenom sqlmap nmap masscan hping3 traceroute tracepath arp getent ldd ldconfig
  objdump readelf nproc lscpu lsblk blkid fdisk mkfs umount losetup dd shred wipe srm uptime hostnamectl timedatectl
  loginctl mesg tmux tac od base58 uuencode uudecode gzip gunzip bzip2 xz unxz zcat bzcat tar unzip 7z 7za zip jar
  javac groovy scala kotlin rustc ghc php-cgi php-fpm aria2c axel elinks lynx w3m apt-get aptitude dpkg rpm yum dnf
  zypper apk pacman emerge pip pip3 npm npx yarn gem composer cmake ninja vim vi nvim nano emacs pico mcedit pdb ipdb
  valgrind renice ionice chrt taskset stdbuf unbuffer atq atrm
`);

/** Commands that are also English (or very common) words: they need shell-shaped arguments. */
const TIER2 = words(`
  ll la
  cat more less find sort time head tail touch file kill sleep wait read type which who free top make set export
  source cut tr history ping echo print open start date du df w cp mv rm ln grep egrep fgrep zip tee nice alias exec
  eval trap last groups users column fold paste join split wc diff cmp comm uniq shuf seq yes true false test expr
  let local declare unset shift exit return logout clear reset man info help look locate updatedb whereis dir copy
  del erase move ren rename md mkdir rmdir cd chdir pushd popd call goto pause cls title color assoc ftype net sc
  wevtutil runas format label vol tree xcopy robocopy attrib fc findstr more.com shutdown.exe hostname ver systeminfo
  query quser qwinsta logoff su cc chef knife service shutdown reboot halt init wish expect route ip ss dig host
  whois strings mount wall write screen rev nl java go links apt cargo bundle ex ed joe perf timeout script watch at
  batch env id ls pwd ps whois finger
`);

/** Bare tier-2 names that are the classic one-word injection probes (`;id`, `|ls`). */
const PROBES = words('id ls pwd env ps w who uname whoami ifconfig ipconfig hostname ver dir set netstat systeminfo');

/** Binaries that execute their argument (so `| sh` or `| bash` ends a download-and-run). */
const SHELLS = words(
  'sh bash zsh ksh dash csh tcsh fish busybox cmd powershell pwsh python python3 perl ruby php node',
);

/** Windows cmd builtins that follow `for … do` / `if …`. */
const CMD_BUILTINS = words(
  'echo set goto call copy del move ren type dir cmd start exit if for pause cls rem mkdir md rd rmdir cd pushd popd',
);

const SENSITIVE_PATH =
  /\/etc\/(?:passwd|shadow|group|hosts|issue|sudoers|crontab)|\/proc\/self|\/dev\/(?:tcp|udp)\/|\/bin\/(?:ba)?sh|\.ssh\/|\\windows\\|system32|win\.ini|boot\.ini|%(?:comspec|systemroot|windir|systemdrive)%/i;

/** 1 for a binary whose name is not an English word, 2 for one that is, 0 for any other name. */
export function binaryTier(name: string): 0 | 1 | 2 {
  return TIER1.has(name) ? 1 : TIER2.has(name) ? 2 : 0;
}

/** Suite prefixes `binaryName` strips (`ansible-doc` → `ansible`); none contains `-`. */
const SUITES = new Set(['ansible', 'chef', 'rmt', 'lwp', 'ssh', 'pip', 'docker', 'kubectl']);

/**
 * Where the basename of `word` starts: after the last `/` or `\`, like `word.replace(/^.*[/\\]/, '')`,
 * whose `.` stops at a line terminator, so only slashes before the first one count.
 */
function basenameStart(word: string): number {
  let k = Math.max(word.lastIndexOf('/'), word.lastIndexOf('\\'));
  for (let i = 0; i < k; i++) {
    const c = word.charCodeAt(i);
    if (c === 10 || c === 13 || c === 0x2028 || c === 0x2029) {
      k = i === 0 ? -1 : Math.max(word.lastIndexOf('/', i - 1), word.lastIndexOf('\\', i - 1));
      break;
    }
  }
  return k + 1;
}

/**
 * Normalises a command word to the binary name it runs: basename, lower case, no `.exe`, no
 * version. Called for every piece of every value (see `mayRunCommand`), so written with string
 * scans instead of the equivalent regular-expression replaces:
 * `replace(/^.*[/\\]/, '')`, `.toLowerCase()`, `replace(/\.(?:exe|com|bat|cmd)$/, '')`.
 */
export function binaryName(word: string): string {
  const start = basenameStart(word);
  let base = (start === 0 ? word : word.slice(start)).toLowerCase();
  const n = base.length;
  if (n >= 4 && base.charCodeAt(n - 4) === 46 /* . */) {
    const ext = base.slice(n - 3);
    if (ext === 'exe' || ext === 'com' || ext === 'bat' || ext === 'cmd') base = base.slice(0, n - 4);
  }
  if (TIER1.has(base) || TIER2.has(base)) return base;
  // python3.10, gcc10.1, ansible-doc, chef-client: versioned or suite binaries.
  // (`replace(/[\d.]+$/, '')`: the trailing run of digits and dots.)
  let end = base.length;
  while (end > 0) {
    const c = base.charCodeAt(end - 1);
    if ((c < 48 || c > 57) && c !== 46) break;
    end--;
  }
  if (end < base.length) {
    const unversioned = base.slice(0, end);
    if (TIER1.has(unversioned)) return unversioned;
  }
  const dash = base.indexOf('-');
  if (dash > 0) {
    const suite = base.slice(0, dash);
    if (SUITES.has(suite) && TIER1.has(suite)) return suite;
  }
  return base;
}

/** Translates a shell glob to an anchored RegExp (`?`, `*`, `[abc]`, `[!a]`); other characters literal. */
function globToRegExp(glob: string): RegExp {
  let src = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '?') src += '.';
    else if (c === '*') src += '.*';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      const inner = close > 0 ? glob.slice(i + 1, close) : '';
      if (close > 0 && /^[!^]?[a-z0-9-]+$/.test(inner)) {
        src += `[${inner.replace(/^!/, '^')}]`;
        i = close;
      } else {
        src += '\\[';
      }
    } else src += c.replace(/[.+^${}()|\\\]/]/g, '\\$&');
  }
  return new RegExp(`^${src}$`);
}

/** Resolves a globbed command (`/bin/ca?`, `/???/c?t`) against the known binaries. */
function globBinary(word: string): string | undefined {
  const base = word.replace(/^.*\//, '').toLowerCase();
  if (!/[?*[]/.test(base) || base.length > 32 || !/[a-z]/.test(base.replace(/\[[^\]]*\]/g, ''))) return undefined;
  let re: RegExp;
  try {
    re = globToRegExp(base);
  } catch {
    // `[z-a]`: a range the shell would not match either.
    return undefined;
  }
  for (const b of TIER1) if (re.test(b) && b.length >= 2) return b;
  for (const b of ['cat', 'ls', 'id', 'ping', 'echo', 'nc', 'rm']) if (re.test(b)) return b;
  return undefined;
}

/** Does this argument have a shape only command lines have? */
function shellArg(w: ShellWord, anyFlag = false): boolean {
  const t = w.text;
  // Known non-English binaries take any `-word` option (`c99 -wrapper`); English ones need real flags.
  if (anyFlag && /^-{1,2}[A-Za-z]/.test(t)) return true;
  // Windows paths and variables as written (`C:\`, `%SYSTEMROOT%\win.ini`): escapes would eat them.
  if (/^[A-Za-z]:\\|^\\\\|%[A-Za-z_]+%/.test(w.raw)) return true;
  if (t === 'root' || t === 'aux' || t === '-ef') return true;
  // dd-style operands of known binaries: `if=/etc/passwd`, `of=/tmp/x`.
  if (anyFlag && /^[a-z]{1,6}=(?:\/|~\/|\.\.?\/)/.test(t)) return true;
  return (
    // Flags: `-la`, `-c`, `--version`, `-O-`; not search operators like `-used`.
    /^--[A-Za-z0-9]|^-[A-Za-z0-9?]{1,3}(?:$|[=:-])|^-[A-Z]/.test(t) ||
    /^(?:\/|\.{1,2}\/|~\/?|[A-Za-z]:[\\/]|\\\\)/.test(t) ||
    /^[a-z][a-z0-9+.-]*:\/\//i.test(t) ||
    /^\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?$/.test(t) ||
    /^\$[A-Za-z_{]|^%[A-Za-z_]+%$/.test(t) ||
    (w.glob && /[a-z/]/i.test(t) && (/[*[]/.test(t) || /\?./.test(t)) && !/[=&]|:\/\//.test(t)) ||
    /^[\w.-]+\.(?:sh|php|py|pl|rb|exe|bat|ps1|txt|conf|log|gz|tgz|zip|jpg|png)$/i.test(t) ||
    /^\/[a-z?]$/i.test(t)
  );
}

const STRONG_LEADS = new Set([';', '|', '||', '&&', 'nl', '$(', '`', '<(']);
const WRAPPERS = /^(?:sudo|nohup|time|env|exec|nice|setsid|timeout|xargs|busybox|strace|ltrace|doas|command|builtin)$/;
/** Network tools, whose host-name arguments are shaped (`curl example.org`). */
const NET_TOOLS = words(
  'curl wget ping nc ncat netcat nslookup dig host ssh telnet ftp tftp scp rsync traceroute whois',
);
/** Tier-1 names that are also common in technical prose ("I love python"). */
const PROSE_TIER1 = words(
  'nc ncat ss python python2 python3 perl ruby php lua node nodejs deno bash sh zsh fish cmd powershell curl wget docker kubectl npm npx yarn gem cargo pip pip3 vim nano emacs ssh ftp telnet openssl javac gcc',
);

/**
 * Is `cmd.words[k]` the file of a redirection written before it (`< file`, `>out`) rather than
 * a word of the command? `</script>` in HTML is a redirection from `/script`, not a run of the
 * `script` binary.
 */
function isRedirectTarget(cmd: ShellCommand, k: number): boolean {
  const at = cmd.words[k]!.pos;
  const prev = k > 0 ? cmd.words[k - 1]!.pos : -1;
  return cmd.redirects.some((r) => r.pos > prev && r.pos < at);
}

/** Scores one simple command. */
function scoreCommand(
  cmd: ShellCommand,
  next: ShellCommand | undefined,
  valueLen: number,
  inQuote: boolean,
  assigned: ReadonlySet<string>,
): Candidate | undefined {
  // Skip assignments, redirection targets and wrappers: `a=b cmd`, `</dev/null cmd`,
  // `sudo cmd`, `nohup cmd`, `time cmd`.
  let k = 0;
  while (
    k < cmd.words.length &&
    ((isAssignment(cmd.words[k]!.text) && !cmd.words[k]!.quoted) || isRedirectTarget(cmd, k))
  )
    k++;
  let wrapped = false;
  while (k < cmd.words.length - 1 && WRAPPERS.test(binaryName(cmd.words[k]!.text))) {
    let j = k + 1;
    while (j < cmd.words.length - 1 && /^-|^\d+$/.test(cmd.words[j]!.text)) j++;
    const inner = binaryName(cmd.words[j]!.text);
    // `time curl x`: the wrapper runs a known binary; `env --version`: the wrapper is the command.
    if (!TIER1.has(inner) && !TIER2.has(inner)) break;
    k = j;
    wrapped = true;
  }
  const head = cmd.words[k];
  if (!head && cmd.varHead && STRONG_LEADS.has(cmd.lead)) {
    // `&&$c $a$b`: only variables, expanded into a command.
    return { rule: RULES.evasion, confidence: 0.7, from: cmd.sepEnd, to: Math.min(valueLen, cmd.sepEnd + 16) };
  }
  const varName = /^\$\{?([A-Za-z_]\w*)\}?$/.exec(head?.text ?? '')?.[1];
  if (head && varName && assigned.has(varName) && (STRONG_LEADS.has(cmd.lead) || cmd.lead === '&')) {
    // `garb=adduse[r];$garb pizza`: a variable set earlier, run as the command.
    return { rule: RULES.evasion, confidence: 0.8, from: head.pos, to: Math.min(valueLen, head.end) };
  }
  // A URL or an e-mail address is not a command path (`https://x/img/cat photo.png`).
  if (!head || head.text.length === 0 || head.text.length > 64 || /:\/\/|@|^[a-z]+:/i.test(head.text)) return undefined;
  let name = binaryName(head.text);
  // `/bi[n]/bash`, `/usr/[a-z]in/bash`: a globbed directory is written only to dodge filters.
  let evasion = head.evasion || (head.glob && /[?*[][^/]*\//.test(head.text));
  if (/^\$\{?SHELL\}?$/.test(head.text)) name = 'sh';
  if (!TIER1.has(name) && !TIER2.has(name)) {
    const g = globBinary(head.text);
    // `a=curl&&$a x`, `;$garb pizza`: a variable (set earlier) run as the command.
    if (!g && cmd.varHead && STRONG_LEADS.has(cmd.lead)) {
      return { rule: RULES.evasion, confidence: 0.75, from: head.pos, to: Math.min(valueLen, head.end) };
    }
    if (!g) return undefined;
    name = g;
    evasion = true;
  }
  const tier1 = TIER1.has(name);
  const args = cmd.words.slice(k + 1);
  const anyFlag = (tier1 && !PROSE_TIER1.has(name)) || name === 'dd';
  const shaped =
    args.some((a) => shellArg(a, anyFlag)) ||
    redirectShaped(cmd) ||
    (cmd.trail === '|' && !!next && nextRuns(next)) ||
    (NET_TOOLS.has(name) && args.some((a) => /^[\w-]+(?:\.[\w-]+)+(?::\d+)?$/.test(a.text))) ||
    args.some((a) => a.quoted && /(?:^|\s)-{1,2}\w/.test(a.text)) ||
    // `sleep 10`, `ping -n 5`: the time-based probe needs only a number.
    (/^(?:sleep|timeout|ping|usleep)$/.test(name) && args.length === 1 && /^\d+(?:\.\d+)?$/.test(args[0]!.text)) ||
    (name === 'at' && /^\d{1,2}:\d{2}$/.test(args[0]?.text ?? '')) ||
    (name === 'net' &&
      /^(?:user|users|localgroup|group|view|share|use|start|stop|accounts|session)$/i.test(args[0]?.text ?? ''));
  const sensitive = args.some((a) => SENSITIVE_PATH.test(a.text));
  // A long sentence with one address or path in it is prose ("Set the DNS server to 10.0.0.2 in …").
  const proseLine =
    args.length > 4 && args.filter((a) => shellArg(a, anyFlag)).length / args.length < 0.4 && !redirectShaped(cmd);
  const englishArgs = args.length >= 2 && args.every((a) => /^[A-Za-z][a-z'’]*[,.!?]?$/.test(a.text) && !a.evasion);
  const pipedToShell = cmd.trail === '|' && !!next && SHELLS.has(binaryName(next.words[0]?.text ?? ''));
  const lead = cmd.lead;
  const strong = STRONG_LEADS.has(lead);
  const from = head.pos;
  const to = Math.min(valueLen, (args[args.length - 1] ?? head).end);
  const endsHere =
    args.length === 0 &&
    (cmd.trail === '' ||
      cmd.trail === ';' ||
      cmd.trail === '|' ||
      cmd.trail === '`' ||
      cmd.trail === ')' ||
      cmd.trail === '&' ||
      cmd.trail === 'nl');
  // `;top`: a separator glued to the command is typed for a shell; prose puts a space after `;`.
  const glued = strong && lead !== 'nl' && cmd.sepEnd === head.pos && head.pos > 1;

  let conf = 0;
  let rule: Rule =
    lead === '$(' || lead === '`' || lead === '<('
      ? RULES.substitution
      : lead === 'start'
        ? RULES.commandLine
        : RULES.chained;
  if (tier1) {
    const distinctive = !PROSE_TIER1.has(name);
    if (strong) conf = shaped ? 0.9 : englishArgs ? 0.7 : 0.85;
    else if (lead === '&') conf = shaped ? 0.85 : args.length === 0 && endsHere ? 0.7 : englishArgs ? 0.35 : 0.6;
    else if (lead === 'start') {
      if (shaped && !proseLine) conf = 0.8;
      else if (args.length === 0 && STRONG_LEADS.has(cmd.trail)) conf = 0.7;
      else if (distinctive && args.length <= 3) conf = 0.65;
      else conf = englishArgs ? 0.2 : 0.45;
      if (wrapped) conf = Math.max(conf, 0.7);
    } else conf = shaped ? 0.7 : 0.4;
  } else {
    if (strong && (lead === '$(' || lead === '`' || lead === '<(') && !englishArgs) {
      // A substitution only ever runs a command.
      conf = shaped ? 0.9 : 0.7;
    } else if (strong) {
      conf = shaped
        ? 0.85
        : endsHere && PROBES.has(name)
          ? 0.7
          : glued && (PROBES.has(name) || name === 'top')
            ? 0.65
            : 0;
    } else if (lead === '&') conf = shaped ? 0.75 : endsHere && PROBES.has(name) ? 0.6 : 0;
    else if (lead === 'start') {
      conf =
        shaped && !proseLine ? (sensitive ? 0.85 : 0.65) : wrapped && PROBES.has(name) && args.length === 0 ? 0.65 : 0;
    } else conf = shaped ? 0.6 : 0;
  }
  // Quotes, escapes, braces or globs inside a command name are written only to dodge filters.
  if (conf === 0 && evasion && name.length >= 2) conf = 0.7;
  if (conf === 0) return undefined;
  if (sensitive) conf += 0.1;
  if (pipedToShell) conf += 0.1;
  if (evasion && (tier1 || shaped || strong)) {
    conf = Math.max(conf + 0.15, 0.85);
    rule = RULES.evasion;
  }
  // Inside a quoted argument the value had to close the quote first: that is intent.
  if (inQuote && strong) conf += 0.05;
  return { rule, confidence: Math.min(1, conf), from, to };
}

/**
 * A redirection counts when its target looks like a file or descriptor (`> /tmp/x`, `2>&1`,
 * `<<< "id"`), not when prose compares numbers (`2 > 1`, `3 < 4`).
 */
function redirectShaped(cmd: ShellCommand): boolean {
  return cmd.redirects.some((r) => {
    if (r.op === '<<<' || r.op === '&>') return true;
    const target = cmd.words.find((w) => w.pos > r.pos);
    if (!target) return false;
    return /^&\d$|[/\\]|^\$|\.[a-z0-9]{1,4}$/i.test(target.text) && !/^\d+(?:[.,]\d+)?$/.test(target.text);
  });
}

/** Does the command after a pipe run a known binary (`| sh`, `| grep -v x`, not `| Pause`)? */
function nextRuns(next: ShellCommand): boolean {
  const w = next.words[0];
  if (!w) return false;
  const name = binaryName(w.text);
  return (
    (TIER1.has(name) && !PROSE_TIER1.has(name)) ||
    SHELLS.has(name) ||
    (TIER2.has(name) && next.words.slice(1).some((a) => shellArg(a)))
  );
}

const SHELLSHOCK = /\(\s*\)\s*\{\s*(?:[:\w]+\s*;?\s*)*\}\s*;/;
const FORK_BOMB = /([:.\w]{1,16})\s*\(\s*\)\s*\{[^}]{0,40}?\1[^}]{0,10}?[|&][^}]{0,10}?\1[^}]{0,20}\}\s*;?\s*\1/;
const REVERSE =
  /\/dev\/(?:tcp|udp)\/[\w.-]+\/\d+|\b(?:nc|ncat|netcat)\b[^\n|;]{0,80}\s-[a-z]*[ec]\b|\bbash\s+-i\b[^\n]{0,40}>&|\bsocat\b[^\n]{0,80}exec:|\b(?:curl|wget)\b[^\n|;]{0,200}\|\s*(?:ba|z|k|da)?sh\b|\bmkfifo\b[^\n]{0,80}\bnc\b/i;
/** cmd.exe `for [/d|/r path|/l|/f "opts"]… %%x in (…) do cmd`. */
const CMD_FOR = /\bfor\s+(?:\/[dlrf]\s+(?:"[^"]*"\s+|[a-z]:\\\S*\s+)?)*%%?[^\s%]*\s+in\s*\([^)]*\)\s*do\b/i;
/** cmd.exe `if [/i] [not] exist|defined|errorlevel|cmdextversion …` and `if a==b`, `if (a) equ (b)`. */
const CMD_IF =
  /\bif\s*(?:\/i\s*)?(?:not\s+)?(?:(?:exist|defined)\s+(?:"[^"]*"|\([^)]*\)|\S+)|(?:errorlevel|cmdextversion)\s+\d+|(?:"[^"]*"|\[[^\]]*\]|\([^)]*\)|\{[^}]*\}|[\w%~:-]+)\s*(?:==|\s(?:equ|neq|lss|leq|gtr|geq)\s)\s*(?:"[^"]*"|\[[^\]]*\]|\([^)]*\)|\{[^}]*\}|\S+)|\(\s*\S+\s+(?:equ|neq|lss|leq|gtr|geq)\s+\S+\s*\))\s*\(?\s*(\S*)/i;
const CMD_MISC =
  /\bcmd(?:\.exe)?\s+\/[ck]\s+\S|%comspec%|\b(?:certutil(?:\.exe)?\s+-urlcache|bitsadmin\s+\/transfer|mshta\s+(?:https?|vbscript|javascript):|rundll32(?:\.exe)?\s+\S+,|regsvr32\s+\/s)/i;
const POWERSHELL =
  /\b(?:iex|invoke-expression|invoke-webrequest|iwr|invoke-restmethod|irm|start-process|invoke-command|invoke-item|invoke-wmimethod|iwmi)\b\s*(?:[(\-'"$]|[\w.:/\\]+\.(?:exe|ps1|bat|dll|hta)\b|https?:)|\.downloadstring\s*\(|\.downloadfile\s*\(|new-object\s+(?:-typename\s+)?(?:system\.)?net\.webclient|\[system\.convert\]::frombase64string|\bpowershell(?:\.exe)?\b[^\n]{0,60}\s-(?:e|ec|enc|encodedcommand|c|command|nop|noprofile|w\s+hidden|windowstyle)\b|\b(?:get|set|remove|new|add)-(?:content|item|itemproperty|process|service|wmiobject|ciminstance|localuser|mppreference)\b\s+-?\S/i;
const MAIL =
  /[\r\n]\s*(?:(?:mail\s+from|rcpt\s+to)\s*:|(?:helo|ehlo|vrfy|expn|starttls|auth\s+(?:login|plain))\b|[a-z]{0,3}\d{1,6}\s+(?:select|examine|search|fetch|store|login|logout|create|delete|rename|list|lsub|append|uid|capability|status|subscribe|copy|authenticate)\b|(?:user|pass|apop)\s+\S+[ \t]*(?:[\r\n]|$)|(?:retr|dele|top|uidl)\s+\d+[ \t]*(?:[\r\n]|$)|(?:stat|capa|rset|noop)[ \t]*(?:[\r\n]|$))/i;

const MAIL_LEADING =
  /^[ \t]*[\r\n]+\s*(?:(?:data|quit|noop|rset|stat|capa|stls|logout|expunge)[ \t]*(?:[\r\n]|$)|help\s+\w+[ \t]*(?:[\r\n]|$)|(?:list|top|retr|dele|uidl)\s+\d|(?:auth|apop|user|pass|helo|ehlo|expn|vrfy)\s+\S|[a-z0-9]{1,8}\s+(?:select|examine|search|fetch|store|login|logout|create|delete|rename|list|lsub|append|uid|capability|status|subscribe|copy|authenticate|noop|close|expunge|check|idle|starttls|quit)\b)/i;

/** All candidates for one context of one value. */
function evaluate(value: string, deadline: number, inQuote: boolean, offset: number): Candidate[] {
  const out: Candidate[] = [];
  const parse = tokenizeShell(value, deadline);
  const cmds = parse.commands;
  const assigned = new Set(
    cmds.flatMap((c) => c.words.filter((w) => isAssignment(w.text)).map((w) => w.text.slice(0, w.text.indexOf('=')))),
  );
  for (let i = 0; i < cmds.length; i++) {
    const c = scoreCommand(cmds[i]!, cmds[i + 1], value.length, inQuote, assigned);
    if (c) out.push({ ...c, from: Math.max(0, c.from - offset), to: Math.max(0, c.to - offset) });
  }
  if (parse.ifs && out.length === 0 && !inQuote) {
    const at = value.search(/\$\{?IFS/);
    out.push({ rule: RULES.evasion, confidence: 0.65, from: at, to: at + 6 });
  }
  // `$(anything)`, `` `anything` ``: substitution of an unknown command.
  if (!inQuote && out.every((c) => c.rule !== RULES.substitution)) {
    const m = /\$\(\s*([a-z][\w.-]{1,30})(?:\s[^)]*)?\)|`\s*([a-z][\w.-]{1,30})(?:\s[^`]*)?`/i.exec(value);
    if (m) out.push({ rule: RULES.substitution, confidence: 0.55, from: m.index, to: m.index + m[0].length });
  }
  return out;
}

/** Appends a candidate for the match `m`, if any. */
function addMatch(out: Candidate[], rule: Rule, confidence: number, m: RegExpExecArray | null): void {
  if (m) out.push({ rule, confidence, from: m.index, to: m.index + m[0].length });
}

function structural(value: string): Candidate[] {
  const out: Candidate[] = [];
  addMatch(out, RULES.shellshock, 0.95, SHELLSHOCK.exec(value));
  // The Shellshock prefix alone, as a whole value (`() {`, `() { :; }`).
  addMatch(out, RULES.shellshock, 0.7, /^\s*\(\s*\)\s*\{/.exec(value));
  addMatch(out, RULES.forkBomb, 0.9, FORK_BOMB.exec(value));
  addMatch(out, RULES.reverse, 0.9, REVERSE.exec(value));
  addMatch(out, RULES.windows, 0.8, CMD_FOR.exec(value));
  const ifm = CMD_IF.exec(value);
  if (ifm) {
    const then = (ifm[1] ?? '').toLowerCase().replace(/^\(|\)$/g, '');
    const strongIf =
      /==|%\w+%|\/i\b|\s(?:equ|neq|lss|leq|gtr|geq)\s|errorlevel|cmdextversion/i.test(ifm[0]) ||
      CMD_BUILTINS.has(then) ||
      TIER1.has(binaryName(then)) ||
      /\(\s*$/.test(ifm[0]);
    addMatch(out, RULES.windows, strongIf ? 0.75 : 0.5, ifm);
  }
  addMatch(out, RULES.windows, 0.85, CMD_MISC.exec(value));
  addMatch(out, RULES.powershell, 0.85, POWERSHELL.exec(value));
  addMatch(out, RULES.mail, 0.8, MAIL.exec(value));
  // A value that *starts* with a line break and a mail-protocol verb: `\r\nQUIT`, `\nTOP 1 2`.
  addMatch(out, RULES.mail, 0.75, MAIL_LEADING.exec(value));
  const alias = /(?:^|[;&|\n]\s*)alias\s+(?:[+-][\w+-]+\s+)*[\w.-]+=(?:'[^']*'|"[^"]*"|\S+)/.exec(value);
  addMatch(out, RULES.chained, 0.75, alias);
  // Shell-only expansions: arithmetic `$[2+2]`, `$((7))`, pattern removal `${x#…}`.
  addMatch(
    out,
    RULES.substitution,
    0.6,
    /\$\[\s*(?:[\d(][^\]\n]{0,40}|[^\]\n]{0,40}[-+*/%][^\]\n]{0,40})?\]|\$\(\([^)\n]{0,40}\)\)|\$\{\w+#[^}\n]{0,40}\}/.exec(
      value,
    ),
  );
  // An SMTP envelope even without its line breaks (a header cannot carry them).
  addMatch(out, RULES.mail, 0.75, /\bmail\s+from\s*:\s*<[^>]*>[^\n]{0,200}?\brcpt\s+to\s*:\s*</i.exec(value));
  const binPath = /(?:^|[;|&=('"`]\s*)(?:\/usr(?:\/local)?)?\/s?bin\/([\w.-]+)/.exec(value);
  if (binPath && (TIER1.has(binPath[1]!) || TIER2.has(binPath[1]!))) addMatch(out, RULES.chained, 0.75, binPath);
  // The whole value is a path to a system binary (`/bin/ab`, `/usr/sbin/x`): a command to run.
  addMatch(out, RULES.commandLine, 0.6, /^\s*(?:\/usr(?:\/local)?)?\/s?bin\/[\w.+-]+\s*$/.exec(value));
  return out;
}

/**
 * Characters without which the tokenizer only splits a value at whitespace, `; | &` and
 * parentheses and keeps every word as written: no quote removal, escapes, carets, expansions,
 * brace expansion, redirections or substitutions (see shell-tokenizer.ts). Globs (`* ? [`) only
 * mark a word, which `globBinary` then resolves.
 */
const SHELL_REWRITE = /['"\\^${}`<>]/;
// Exactly the tokenizer's separators (not `\s`), so that the pieces are its words.
const PLAIN_SPLIT = /[ \t\v\f\n\r;|&()]+/;

/** Length of the longest known binary name. */
const LONGEST_NAME = Math.max(...[...TIER1, ...TIER2].map((b) => b.length));
/** Ends like a version (`3.10`) or like an extension `binaryName` strips, in any case. */
function strippedEnd(word: string): boolean {
  const n = word.length;
  const last = word.charCodeAt(n - 1);
  if ((last >= 48 && last <= 57) || last === 46) return true;
  if (n < 4 || word.charCodeAt(n - 4) !== 46) return false;
  const ext = word.slice(n - 3).toLowerCase();
  return ext === 'exe' || ext === 'com' || ext === 'bat' || ext === 'cmd';
}

/**
 * Does `binaryName(word)` name a known binary? Lower-casing never shortens a string and makes
 * digits, dots and `-` only from themselves, so a basename longer than any name plus an
 * extension can only come down to one through a version suffix or a suite prefix (`ssh-…`):
 * other long words (file bodies, tokens) skip the lower-casing and hashing of their whole text.
 */
export function namesKnownBinary(word: string): boolean {
  if (word.length > LONGEST_NAME + 4) {
    const start = basenameStart(word);
    if (word.length - start > LONGEST_NAME + 4 && !strippedEnd(word)) {
      const dash = word.indexOf('-', start);
      if (dash < 0 || dash - start > 7 || !SUITES.has(word.slice(start, dash).toLowerCase())) return false;
    }
  }
  const name = binaryName(word);
  return TIER1.has(name) || TIER2.has(name);
}

/**
 * Can `evaluate` return anything for this value? Without the characters above, every command
 * head is one of the value's pieces, and a command scores only when its head names a known
 * binary, directly or as a glob: a value none of whose pieces does cannot fire, so it skips the
 * tokenizer.
 */
function mayRunCommand(value: string): boolean {
  if (SHELL_REWRITE.test(value)) return true;
  for (const piece of value.split(PLAIN_SPLIT)) {
    if (piece === '') continue;
    // A lower-case word is its own binary name (no path, extension, version or suite to strip).
    if (/[^a-z]/.test(piece) ? namesKnownBinary(piece) : TIER1.has(piece) || TIER2.has(piece)) return true;
    if (/[*?[]/.test(piece) && globBinary(piece) !== undefined) return true;
  }
  return false;
}

/**
 * Every `structural` pattern needs one of these characters (`{` of Shellshock and fork bombs,
 * `$` of shell-only expansions, the line breaks of mail commands), paths or words, read off the
 * patterns with their word boundaries (so `consent` or `email` do not count): a value with none
 * of them cannot match any, so prose, tokens, cookies, user agents and file bodies skip them all.
 * Keep in step with `structural`. One `\b` before the word group, not one per word, scans 2-3x
 * faster.
 */
const STRUCTURAL_NEEDS =
  /[{$\r\n]|\/dev\/|\/s?bin\/|%comspec%|\.download|\[system\.convert\]|new-object|\b(?:if|for|mkfifo|nc|netcat|bash|socat|curl|wget|cmd|certutil|bitsadmin|mshta|rundll32|regsvr32|iex|iwr|irm|iwmi|invoke-|start-process|powershell|(?:get|set|remove|new|add)-|alias|mail)/i;

/** Candidates of one form of the value (as sent, or percent-decoded), appended to `hits`. */
function inspectValue(value: string, deadline: number, hits: Hit[]): void {
  const cands = mayRunCommand(value) ? evaluate(value, deadline, false, 0) : [];
  if (STRUCTURAL_NEEDS.test(value)) cands.push(...structural(value));
  for (const q of ['"', "'"] as const) {
    if (value.includes(q)) cands.push(...evaluate(q + value, deadline, true, 1));
  }
  cands.push(...sqliteDotCommands(value, binaryName, binaryTier));
  if (value.includes('$((')) cands.push(...nestedArithmetic(value));
  if (cands.length === 0) return;
  discountMarkdownCode(value, cands);
  for (const c of cands) {
    hits.push({
      attackType: 'rce',
      ruleId: c.rule.id,
      severity: c.rule.severity,
      confidence: Math.round(c.confidence * 100) / 100,
      fragment: value.slice(c.from, Math.max(c.to, c.from + 1)),
      reason: c.rule.reason,
    });
  }
}

export const rceDetector: Detector = {
  id: 'rce',
  inspectPoint(point, ctx) {
    const raw = point.value;
    if (raw.length < 2) return [];
    const hits: Hit[] = [];
    inspectValue(raw, ctx.deadline, hits);
    const decoded = percentDecode(raw);
    if (decoded !== raw) inspectValue(decoded, ctx.deadline, hits);
    return hits.length === 0 ? [] : selectHits(hits, ctx.sensitivity, point.location);
  },
};
