/**
 * `node --import tsx bench/gen-benign-corpus.ts`: regenerates corpus/benign/ from the
 * hand-written seeds below with a fixed-seed RNG (the output is committed; rerunning gives the
 * same files). The seeds are what real users type and send: prose with apostrophes and
 * punctuation in several languages, names, addresses, e-mails, URLs, search queries,
 * SQL-sounding and shell-sounding English, markdown comments with code, JSON API bodies,
 * tokens, base64 blobs, form posts and multipart uploads, browser headers.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { prng as rng } from './prng.js';

const rand = rng(20261124);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
const chance = (p: number): boolean => rand() < p;

// --- seeds ---------------------------------------------------------------------------------

const SENTENCES_EN = [
  "I'm not sure it's the right size, can I exchange it?",
  "We'd love to hear what you think -- reply anytime!",
  "Don't forget to bring your ID; the front desk won't let you in otherwise.",
  'The package arrived on time, but the box was damaged (the item itself is fine).',
  "It's 5 o'clock somewhere, right?",
  'Can you select the best option from the list and send it back to me?',
  'Please drop me a line when you are back in town.',
  'The union of workers voted 52% in favour of the new contract.',
  'Order by Friday and get free shipping & handling!',
  'Update: the meeting is moved to 3pm -- same room as last time.',
  "Where are you from? I am from Cork, near the O'Briens' old farm.",
  'Insert the tab into slot A, then fold along the dotted line.',
  'Delete my account and all associated data, please.',
  'Having fun since 1999: thanks for 25 years of support!',
  'My kid\'s teacher said "great job" -- proud dad moment.',
  'Select all that apply: red, green, blue or none.',
  'Is there a discount for groups of 10 or more?',
  'The drop-off point is at gate 4; pickup is at gate 7.',
  'Join us for a Q&A session with the team on Tuesday.',
  'What is 1+1? A: 2, obviously (unless you are a philosopher).',
  "I'll ping you tomorrow | ok?",
  'cat and dog sitting service available on weekends',
  'Find more info at our help center or call us.',
  'Time flies when you are having fun; sleep is overrated.',
  'Echo Park is nice in the spring, the lake is beautiful.',
  'Kill two birds with one stone: buy the bundle & save 20%.',
  "We're sorry for the delay -- your order #4821 is on its way.",
  'He said: "it\'s fine, don\'t worry about it".',
  "Rock 'n' roll will never die!!!",
  'Price range: $10 - $50 (excl. VAT)',
  'Best regards, and see you next week.',
  'Sort by price, then by rating (high to low).',
  "The 'Premium' plan includes 3 users; the 'Team' plan includes 10.",
  'Is it true that 2 > 1 and 3 < 4? Asking for a friend :)',
  'I tried turning it off and on again; still no luck.',
  'My password reset email never arrived -- can you resend?',
  'Wait, where is the "submit" button?',
  'Loved the food; the service, less so.',
  '10/10 would recommend to anyone looking for a quiet place.',
  'Unlike the old model, this one has a USB-C port & a headphone jack.',
  'Table for 4 at 7:30pm, please -- one of us is vegetarian.',
  'Use the code SPRING24 at checkout for 15% off.',
  "It's either this or that; there's no third option.",
  'Type your message here...',
  'Set the oven to 180C (350F) and bake for 25-30 minutes.',
  'Read more about our privacy policy & terms of use.',
  'Who is the author of "The Old Man and the Sea"?',
  'Pay by card or cash, whichever you prefer.',
  'The exec summary is on page 2; details follow in section 3.',
  'Please, no more spam; unsubscribe me from this list.',
  'Shipping to P.O. boxes is not available, sorry!',
  'Meet me at the corner of 5th & Main at noon.',
  "Let's grab coffee -- my treat this time.",
  'Where can I find the user manual (PDF) for model X-200?',
  'I want to return item 3 of 5 from order 99812.',
  'Why does the app crash when I rotate my phone?',
  "Our dog's name is Bash; our cat's name is Curl. True story.",
  'The select committee will publish its report in May.',
  'Drop table tennis practice to Thursdays, the gym is busy on Wednesdays.',
  'From 9 to 5, Monday through Friday; closed on holidays.',
  'Step 1: open the lid; step 2: pour; step 3: enjoy.',
  'Awesome product!!! 5 stars *****',
  'Not bad... could be better though.',
  'See attached: invoice_2024-03.pdf & receipt.jpg',
  "The 'where' and 'when' are still TBD.",
  'Can I change the delivery address after ordering?',
  "My name is Sean O'Neill and I live at 12 O'Connell St.",
  'Tickets: adults $12, kids (under 12) $6, seniors $8.',
  'She replied "yes or no?" and I said "maybe".',
  'Be sure to check the FAQ -- most answers are there.',
];

const SENTENCES_OTHER = [
  "C'est l'heure de partir ; on se retrouve à l'entrée ?",
  "J'ai commandé deux articles, mais je n'en ai reçu qu'un.",
  "Aujourd'hui, il fait beau : on va au parc avec les enfants.",
  "Qu'est-ce que vous recommandez pour un débutant ?",
  "L'hôtel était propre, le personnel très aimable & serviable.",
  'Können Sie mir bitte die Rechnung noch einmal schicken?',
  'Die Lieferung kam pünktlich – vielen Dank!',
  'Ich hätte gern zwei Karten für Samstag (Reihe 5, wenn möglich).',
  'Grüße aus München; bis bald!',
  '¿Dónde está la estación de tren más cercana?',
  'Me encantó el producto, ¡lo volveré a comprar!',
  'El pedido llegó tarde, pero en buen estado.',
  '¿Podrían enviarme la factura a mi correo, por favor?',
  "L'albergo è vicino alla stazione; colazione inclusa.",
  'Vorrei prenotare un tavolo per due alle 20:00.',
  'Obrigado pela ajuda! O problema foi resolvido.',
  'Não consigo acessar minha conta desde ontem.',
  'Kan ik mijn bestelling nog wijzigen? Alvast bedankt.',
  'Dziękuję za szybką odpowiedź; wszystko działa.',
  'Teşekkürler, siparişim bugün geldi.',
  'Спасибо, всё пришло вовремя!',
  'Подскажите, пожалуйста, как сменить пароль?',
  'ありがとうございます。明日また連絡します。',
  '送料は無料ですか？',
  '这个产品很好用，我会推荐给朋友。',
  '请问什么时候发货？',
  '배송이 빨라서 좋았어요!',
  'Tack för hjälpen, det fungerar nu.',
  'Kiitos nopeasta toimituksesta!',
  'Mange tak for en god oplevelse.',
  "Ça marche ! On se voit demain à 10h, d'accord ?",
  "D'où venez-vous ? Moi, je suis de Québec.",
  'Πότε θα έρθει η παραγγελία μου;',
  'שלום, מתי המשלוח יגיע?',
  'مرحبا، هل يمكنني تغيير عنوان التوصيل؟',
  'नमस्ते, मेरा ऑर्डर कब आएगा?',
];

const FIRST = [
  'James',
  'Mary',
  "D'Andre",
  'Zoë',
  'José',
  'Siobhán',
  'Jean-Luc',
  'Mary-Kate',
  'Ahmed',
  'Yuki',
  'Olga',
  'Björn',
  'Chloé',
  'Ngozi',
  'Priya',
  'Wei',
  'Fatima',
  'Ólafur',
  'Renée',
  'Łukasz',
  'Søren',
  'Ana María',
  'Kwame',
  'Aoife',
  'Hans',
  'Lucía',
  'Mohammed',
  'Anne-Sophie',
  'Raj',
  'Emily',
];
const LAST = [
  "O'Brien",
  "O'Neill",
  "D'Angelo",
  'McDonald',
  'MacLeod',
  'Müller',
  'Nuñez',
  'García López',
  'Van der Berg',
  'de la Cruz',
  'Smith-Jones',
  'Østergaard',
  'Nakamura',
  'Kowalski',
  'Ivanova',
  'Dubois',
  "N'Diaye",
  'Al-Farsi',
  'Papadopoulos',
  'Johnson',
  'Zhang',
  'Okafor',
  'Singh',
  'Lefèvre',
  "Dell'Acqua",
  'St. John',
  'Björkman',
  'Fitzgerald',
  'Schröder',
  'Le Roux',
];
const STREETS = [
  "O'Connell St",
  'Main Street',
  "Rue de l'Église",
  'Hauptstraße',
  'Calle Mayor',
  "King's Road",
  'Amphitheatre Pkwy',
  'Via Roma',
  'Elm Ave',
  'Baker Street',
  'Av. da Liberdade',
  'Sunset Blvd',
  "St. Mary's Lane",
  'Queen Street West',
  'Oak Drive',
];
const CITIES = [
  'Dublin',
  'Paris',
  'Berlin',
  'Madrid',
  'London',
  'Mountain View',
  'Rome',
  'Lisbon',
  'Toronto',
  "L'Aquila",
  'Köln',
  'Zürich',
  'São Paulo',
  'New York, NY',
  'Québec',
  'Kraków',
];
const DOMAINS = [
  'example.com',
  'mail.example.org',
  'example.co.uk',
  'shop.example.net',
  'uni.example.edu',
  'example.io',
];
const WORDS = [
  'blue',
  'running',
  'shoes',
  'laptop',
  'case',
  'organic',
  'coffee',
  'beans',
  'winter',
  'jacket',
  'kids',
  'toys',
  'wireless',
  'headphones',
  'garden',
  'chair',
  'vintage',
  'lamp',
  'phone',
  'charger',
  'yoga',
  'mat',
  'cotton',
  'sheets',
  'king',
  'size',
  'red',
  'dress',
  'water',
  'bottle',
  'camping',
  'tent',
  'gift',
  'card',
  'book',
  'cookbook',
  'sale',
  'new',
  'used',
  'cheap',
  'best',
  'top',
  'rated',
];
const SEARCH_EXTRA = [
  'select the best option from the list',
  'drop me a line',
  'union of workers',
  'union station parking',
  'select comfort mattress',
  'order by phone',
  'table and chairs set',
  'drop leaf table',
  'insert coin arcade',
  'update iphone',
  'delete instagram account',
  'where to buy',
  'sleep mask',
  'sleep (8 hours) tracker',
  'alert bracelet for seniors',
  'script writing course',
  'javascript the good parts',
  'python for beginners',
  'bash and co',
  'cat food 10kg',
  'find my phone',
  'more than words lyrics',
  'time and date',
  'ping pong table',
  'echo dot 5th gen',
  'kill bill vol 1',
  'top 10 movies 2024',
  'who am i',
  'who is online',
  'less is more',
  'sort code lookup',
  'head and shoulders shampoo',
  'tail light bulb',
  'touch screen gloves',
  'free shipping',
  'make up',
  'date night ideas',
  'rm williams boots',
  'id card holder',
  'ls swap kit',
  'nc state football',
  'curl cream for hair',
  'wget vs curl',
  'sql union vs join',
  'how to use sleep in javascript',
  'c++ std::vector erase',
  'rust vs go',
  "women's shoes size 8",
  "men's watches under $200",
  'kids\' bikes 20"',
  'tv 55" 4k',
  '2x4 lumber price',
  'laptop 16gb ram & 512gb ssd',
  'iphone 15 pro (unlocked)',
  'a/b testing tools',
  'c# async await',
  '.net 8 release notes',
  'node.js fs readfile',
  'r/programming',
  '#1 best seller',
  '@home fitness',
  '50% off',
  'q&a',
  'rock & roll hall of fame',
  'pros/cons',
  'e-mail marketing',
  "l'oréal paris",
  'café près de moi',
  'münchen hauptbahnhof',
  'ñandú',
  'select * from table meaning',
];
const SQL_ENGLISH = [
  'Please select one option or the other.',
  "Drop by our office; we're open 9-5.",
  'Union members and their families are welcome.',
  'Update me when it is done, or call me.',
  'Insert coin to continue.',
  'Delete the old files from the shared drive, please.',
  'Order by phone, email or in person.',
  'Group by size: small, medium & large.',
  '1 or 2 people max per room.',
  "I'll wait for a delay notice before I leave.",
  'Select from our range of teas and coffees.',
  'Join the union and have your say!',
  'Where is my order? It said 1-2 days.',
  'Having issues? Drop us a message.',
  'Tables, chairs and desks -- all 20% off.',
  'Create an account or sign in.',
  'From the makers of the original: now with more flavour.',
  'Into the woods we go, or so they said.',
  'Like and subscribe or else!',
  "It's between 1 and 5 kg, or so.",
  'Is null and void after 30 days.',
  'Limit 2 per customer; while stocks last.',
  'True or false: the earth is round.',
  'Values: honesty, respect and trust.',
  'Exec team offsite -- agenda attached.',
  'Declare your items at customs.',
  'Load the dishwasher, then run it.',
  'Grant me patience, or give me coffee.',
  'Truncate the text if it is too long.',
  'Procedure for refunds: fill in the form & send it.',
  'Case closed; thanks everyone!',
  'Between you and me, it was 2-1 at half time.',
  'Begin with the end in mind.',
  'When in doubt, leave it out.',
  'If not now, when?',
  'Show tables and charts in the report.',
  'User 1 and user 2 share the account.',
  'Username: "admin" is not allowed, choose another.',
  'Select the file, then click "Upload".',
  'Sleep well; see you at 8.',
  'Replace the filter every 3 months or 500 hours.',
];
const SHELL_ENGLISH = [
  'cat and dog',
  'I need more time; kill the lights when you leave.',
  'Find more | see all',
  'Home | About | Contact',
  'Top 10 | Best of 2024 & more',
  'Tom & Jerry',
  'Q&A: who is this?',
  'more info; find the best deals',
  'echo chamber effect',
  'Print this page & sign it.',
  'Open 24/7; call anytime.',
  'Read, write & share.',
  'Copy & paste the link below.',
  'Start | Pause | Stop',
  'Type: small | medium | large',
  'Wait -- what time is it?',
  'Touch base next week?',
  'Head office: 12 Main St; tail end of the street.',
  'At 5pm; at home; at last!',
  'Set, match and point.',
  'Dir. John Smith (2019)',
  'P.S. see you soon',
  'Free as in beer, not as in speech.',
  'Tee time at 10; lunch after.',
  'Kill time at the arcade & grab a snack.',
  "Let's make it happen.",
  'Who, what, where, when & why?',
  'Source: the annual report, p. 12',
  'sort of, kind of',
  'Ping me if you need anything.',
];
const CODE_SNIPPETS = [
  '```python\ndef greet(name):\n    return f"Hello, {name}!"\n\nprint(greet("world"))\n```',
  '```js\nconst total = items.reduce((sum, i) => sum + i.price, 0);\nconsole.log(`total: ${total}`);\n```',
  '```sql\nSELECT id, name FROM users WHERE created_at > NOW() - INTERVAL 7 DAY ORDER BY name;\n```',
  "```bash\ncurl -s https://api.example.com/v1/items | jq '.items[] | .name'\n```",
  '```bash\nnpm install --save-dev prettier && npx prettier --write .\n```',
  '```html\n<button class="btn" onclick="save()">Save</button>\n```',
  '```go\nfunc main() {\n\tfmt.Println("hi")\n}\n```',
  '```java\npublic static void main(String[] args) {\n  System.out.println("Hello");\n}\n```',
  '```rust\nfn main() {\n    let v: Vec<i32> = (1..10).collect();\n    println!("{:?}", v);\n}\n```',
  '```yaml\nservices:\n  web:\n    image: nginx:1.27\n    ports: ["8080:80"]\n```',
  "```sql\nUPDATE orders SET status = 'shipped' WHERE id = 42;\n```",
  '```\n$ ls -la /var/log\n$ tail -f /var/log/syslog\n```',
  '```css\n.card { display: flex; gap: 1rem; }\n```',
  '```ts\nexport function sum(a: number, b: number): number {\n  return a + b;\n}\n```',
  '```php\n<?php echo htmlspecialchars($name, ENT_QUOTES); ?>\n```',
  '```powershell\nGet-ChildItem -Path C:\\Temp -Recurse | Remove-Item\n```',
];
const MD_INTRO = [
  'Thanks for the quick reply! Here is what I tried:',
  "I think there's a bug in the example, it should be:",
  '**Update:** fixed it, posting the solution for others.',
  'Not sure if this helps, but this works on my machine:',
  '> quoted text from the previous comment\n\nAgreed. My version:',
  'Steps to reproduce:\n\n1. open the app\n2. click *Settings*\n3. see error',
  '## Summary\n\n- faster build\n- fewer deps\n\nExample:',
  'LGTM :+1: one nit below.',
  'See [the docs](https://docs.example.com/guide#setup) for details:',
  'Works for me on v2.3.1 (macOS 14). Output:',
];
const MD_OUTRO = [
  '',
  '\n\nHope that helps!',
  '\n\nCheers, Anna',
  '\n\n_edit: typo_',
  '\n\n| col | val |\n|---|---|\n| a | 1 |',
  '\n\nThanks in advance :)',
];
const UAS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67',
  'curl/8.5.0',
  'python-requests/2.31.0',
  'okhttp/4.12.0',
  'Go-http-client/2.0',
  'PostmanRuntime/7.37.3',
  'Wget/1.21.4',
  'axios/1.6.8',
  'Dalvik/2.1.0 (Linux; U; Android 13; SM-S911B Build/TP1A.220624.014)',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)',
  'MyShopApp/3.4.1 (iPhone; iOS 17.4; Scale/3.00)',
];
const ACCEPT_LANG = [
  'en-US,en;q=0.9',
  'fr-FR,fr;q=0.9,en;q=0.8',
  'de-DE,de;q=0.9',
  'es-ES,es;q=0.9,en;q=0.7',
  'ja-JP,ja;q=0.9',
  'pt-BR,pt;q=0.9,en-US;q=0.8,en;q=0.7',
  '*',
];

// --- helpers -------------------------------------------------------------------------------

const b64 = (bytes: number): string => {
  const buf = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) buf[i] = int(0, 255);
  return buf.toString('base64');
};
const b64url = (s: string): string => Buffer.from(s).toString('base64url');
const hex = (n: number): string => Array.from({ length: n }, () => '0123456789abcdef'[int(0, 15)]).join('');
const uuid = (): string => `${hex(8)}-${hex(4)}-4${hex(3)}-${pick(['8', '9', 'a', 'b'])}${hex(3)}-${hex(12)}`;
const name = (): string => `${pick(FIRST)} ${pick(LAST)}`;
const email = (): string => {
  const f =
    pick(FIRST)
      .toLowerCase()
      .normalize('NFD')
      .replace(/[^a-z]/g, '') || 'user';
  const l =
    pick(LAST)
      .toLowerCase()
      .normalize('NFD')
      .replace(/[^a-z]/g, '') || 'name';
  return `${pick([`${f}.${l}`, `${f}${int(1, 99)}`, `${f[0]}${l}`, `${f}+news`, `${l}_${f}`])}@${pick(DOMAINS)}`;
};
const address = (): string =>
  pick([
    `${int(1, 2500)} ${pick(STREETS)}, ${pick(CITIES)}`,
    `${pick(STREETS)} ${int(1, 120)}, ${int(10000, 99999)} ${pick(CITIES)}`,
    `Apt #${int(1, 40)}, ${int(1, 300)} ${pick(STREETS)}`,
    `c/o ${name()}, ${int(1, 99)} ${pick(STREETS)}`,
    `P.O. Box ${int(100, 9999)}, ${pick(CITIES)}`,
    `${int(1, 99)}-${int(1, 9)} ${pick(STREETS)} (rear entrance)`,
  ]);
const url = (): string => {
  const host = pick([
    'https://www.example.com',
    'https://shop.example.net',
    'https://docs.example.org',
    'https://cdn.example.io',
  ]);
  const path = pick([
    '/',
    '/products/123',
    '/api/v1/users/42/orders',
    '/blog/2024/03/hello-world',
    '/search',
    '/c/shoes;jsessionid=A1B2C3',
    '/img/cat%20photo.png',
    '/wiki/Rock_%27n%27_roll',
    '/docs/getting-started#install',
  ]);
  const q = pick([
    '',
    `?q=${encodeURIComponent(pick(WORDS) + ' ' + pick(WORDS))}&page=${int(1, 9)}`,
    `?utm_source=newsletter&utm_medium=email&utm_campaign=spring_${int(1, 9)}`,
    `?ref=${hex(8)}`,
    '?sort=price&order=asc',
    `?from=2024-0${int(1, 9)}-1${int(0, 9)}&to=2024-1${int(0, 2)}-01`,
  ]);
  return host + path + q;
};
const jwt = (): string =>
  `${b64url(JSON.stringify({ alg: pick(['HS256', 'RS256']), typ: 'JWT' }))}.${b64url(JSON.stringify({ sub: String(int(1, 99999)), name: name(), iat: 1700000000 + int(0, 9999999), scope: pick(['read', 'read write', 'admin:read']) }))}.${b64url(hex(32))}`;
const token = (): string =>
  pick([
    jwt(),
    uuid(),
    hex(40),
    hex(64),
    `sk_live_${hex(24)}`,
    `ghp_${b64(27).replace(/[^A-Za-z0-9]/g, 'x')}`,
    b64(int(16, 96)),
    `AKIA${hex(16).toUpperCase()}`,
    `${int(100000, 999999)}`,
    `s%3A${b64(24)}.${b64(32)}`,
  ]);
const sentence = (): string => (chance(0.75) ? pick(SENTENCES_EN) : pick(SENTENCES_OTHER));

// --- value files ---------------------------------------------------------------------------

function uniqueLines(count: number, make: () => string): string[] {
  const out = new Set<string>();
  let guard = 0;
  while (out.size < count && guard++ < count * 20) {
    const v = make().replace(/\r?\n/g, '\\n');
    if (v.trim() && !v.startsWith('# ')) out.add(v);
  }
  return [...out];
}

const files: Record<string, string[]> = {
  'prose.txt': uniqueLines(2600, () => {
    const n = int(1, 3);
    return Array.from({ length: n }, sentence).join(pick([' ', ' ', '\n', ' -- ']));
  }),
  'names-addresses.txt': uniqueLines(1600, () =>
    pick([
      name(),
      name(),
      address(),
      `${name()}\n${address()}`,
      `${pick(LAST)}, ${pick(FIRST)}`,
      `Dr. ${name()} (${pick(['PhD', 'MD', 'Esq.'])})`,
    ]),
  ),
  'search-queries.txt': uniqueLines(2200, () =>
    chance(0.35)
      ? pick(SEARCH_EXTRA)
      : Array.from({ length: int(1, 4) }, () => pick(WORDS)).join(' ') +
        pick(['', '', ' near me', ' 2024', ` under $${int(2, 30)}0`, ' -used', ' "exact phrase"', ' (sale)', '?']),
  ),
  'sql-and-shell-sounding.txt': uniqueLines(900, () =>
    chance(0.5)
      ? pick(SQL_ENGLISH) + (chance(0.4) ? ' ' + pick(SQL_ENGLISH) : '')
      : pick(SHELL_ENGLISH) + (chance(0.3) ? ' ' + pick(SHELL_ENGLISH) : ''),
  ),
  'emails-urls.txt': uniqueLines(1200, () =>
    pick([email(), url(), url(), `${name()} <${email()}>`, `mailto:${email()}?subject=Hello%20there`]),
  ),
  'markdown-comments.txt': uniqueLines(
    900,
    () =>
      `${pick(MD_INTRO)}\n\n${chance(0.7) ? pick(CODE_SNIPPETS) : '`' + pick(['npm ci', 'git pull --rebase', 'SELECT 1', 'rm -rf node_modules', 'eval()', 'x = a || b']) + '` did the trick.'}${pick(MD_OUTRO)}`,
  ),
  'tokens.txt': uniqueLines(1100, token),
};

// --- whole requests ------------------------------------------------------------------------

type Req = { method: string; target: string; headers: Array<[string, string]>; body?: string; bodyBase64?: string };

function baseHeaders(): Array<[string, string]> {
  const h: Array<[string, string]> = [
    ['host', pick(['shop.example.com', 'api.example.com', 'www.example.org'])],
    ['user-agent', pick(UAS)],
    [
      'accept',
      pick([
        '*/*',
        'application/json',
        'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8',
      ]),
    ],
    ['accept-language', pick(ACCEPT_LANG)],
    ['accept-encoding', 'gzip, deflate, br'],
  ];
  if (chance(0.6))
    h.push([
      'cookie',
      `session=${token()}; theme=${pick(['dark', 'light'])}; _ga=GA1.2.${int(100000000, 999999999)}.${int(1600000000, 1700000000)}; consent=${encodeURIComponent(JSON.stringify({ ads: false, analytics: true }))}`,
    ]);
  if (chance(0.5)) h.push(['referer', url()]);
  if (chance(0.3)) h.push(['authorization', `Bearer ${jwt()}`]);
  if (chance(0.2)) h.push(['x-request-id', uuid()]);
  if (chance(0.2)) h.push(['if-none-match', `W/"${hex(16)}"`]);
  return h;
}

function jsonRequest(): Req {
  const kind = int(0, 7);
  let body: unknown;
  let target = '/api/v1/items';
  switch (kind) {
    case 0:
      target = `/api/v1/users/${int(1, 9999)}`;
      body = {
        name: name(),
        email: email(),
        bio: sentence(),
        address: { line1: address(), country: pick(['IE', 'FR', 'DE', 'US', 'JP']) },
        tags: [pick(WORDS), pick(WORDS)],
      };
      break;
    case 1:
      target = '/api/v1/orders';
      body = {
        items: Array.from({ length: int(1, 4) }, () => ({
          sku: `SKU-${hex(6).toUpperCase()}`,
          qty: int(1, 5),
          price: int(100, 99999) / 100,
        })),
        note: chance(0.5) ? sentence() : '',
        coupon: chance(0.3) ? 'SPRING24' : null,
      };
      break;
    case 2:
      target = '/api/v1/search';
      body = {
        query: pick(SEARCH_EXTRA),
        filters: { price: { gte: int(0, 50), lte: int(60, 500) }, brand: [pick(WORDS)], inStock: true },
        sort: pick(['price:asc', 'rating:desc', 'relevance']),
        page: int(1, 20),
      };
      break;
    case 3:
      target = '/graphql';
      body = {
        query: pick([
          'query GetUser($id: ID!) { user(id: $id) { name email orders(first: 5) { id total } } }',
          'mutation AddToCart($sku: String!, $qty: Int!) { addToCart(sku: $sku, qty: $qty) { id items { sku qty } } }',
          '{ products(first: 10, filter: {category: "shoes"}) { edges { node { id name price } } } }',
        ]),
        variables: { id: String(int(1, 999)), sku: `SKU-${hex(4)}`, qty: int(1, 3) },
      };
      break;
    case 4:
      target = '/api/v1/comments';
      body = {
        postId: int(1, 9999),
        author: name(),
        body: pick(files['markdown-comments.txt']!).replace(/\\n/g, '\n'),
      };
      break;
    case 5:
      target = '/api/v1/events';
      body = {
        type: pick(['page_view', 'click', 'add_to_cart', 'purchase']),
        ts: new Date(1700000000000 + int(0, 1e10)).toISOString(),
        props: {
          path: url(),
          ref: chance(0.5) ? url() : null,
          sessionId: uuid(),
          screen: `${pick([1920, 1440, 390])}x${pick([1080, 900, 844])}`,
        },
      };
      break;
    case 6:
      target = '/api/v1/auth/login';
      body = {
        username: email(),
        password: `${pick(WORDS)}${pick(['!', '#', "'", '&', ';', '$'])}${int(10, 9999)}${pick(WORDS).toUpperCase()}`,
        remember: chance(0.5),
      };
      break;
    default:
      target = '/api/v1/settings';
      body = {
        locale: pick(['en-US', 'fr-FR', 'de-DE']),
        timezone: pick(['Europe/Dublin', 'America/New_York', 'Asia/Tokyo']),
        notifications: { email: true, sms: false },
        signature: `${name()} -- ${pick(SENTENCES_EN)}`,
        avatar: `data:image/png;base64,${b64(48)}`,
      };
  }
  return {
    method: pick(['POST', 'PUT', 'PATCH']),
    target,
    headers: [...baseHeaders(), ['content-type', 'application/json']],
    body: JSON.stringify(body),
  };
}

function formRequest(): Req {
  const fields: Array<[string, string]> = pick([
    [
      ['username', email()],
      ['password', `${pick(WORDS)}${int(1, 999)}!`],
      ['remember', 'on'],
    ],
    [
      ['name', name()],
      ['email', email()],
      ['message', sentence()],
      ['subscribe', '1'],
    ],
    [
      ['first_name', pick(FIRST)],
      ['last_name', pick(LAST)],
      ['address', address()],
      ['phone', `+353 ${int(80, 89)} ${int(100, 999)} ${int(1000, 9999)}`],
      ['notes', chance(0.5) ? pick(SQL_ENGLISH) : pick(SHELL_ENGLISH)],
    ],
    [
      ['q', pick(SEARCH_EXTRA)],
      ['category', pick(WORDS)],
      ['min_price', String(int(0, 20))],
      ['max_price', String(int(21, 200))],
    ],
    [
      ['comment', sentence()],
      ['rating', String(int(1, 5))],
      ['csrf_token', b64(32)],
    ],
  ] as Array<Array<[string, string]>>);
  const body = fields
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v).replace(/%20/g, '+')}`)
    .join('&');
  return {
    method: 'POST',
    target: pick(['/login', '/contact', '/checkout/address', '/search', '/reviews']),
    headers: [...baseHeaders(), ['content-type', 'application/x-www-form-urlencoded']],
    body,
  };
}

function getRequest(): Req {
  const params = Array.from({ length: int(1, 4) }, () => {
    const k = pick([
      'q',
      'page',
      'sort',
      'lang',
      'ref',
      'id',
      'category',
      'filter',
      'utm_source',
      'redirect',
      'callback',
      'fields',
      'tab',
    ]);
    const v = pick([
      pick(SEARCH_EXTRA),
      String(int(1, 500)),
      pick(WORDS),
      url(),
      'price:asc',
      'en',
      uuid(),
      'name,email,created_at',
      'jQuery3600_1700000000000',
      'reviews',
    ]);
    return `${k}=${encodeURIComponent(v)}`;
  });
  const path = pick([
    '/search',
    '/products',
    `/products/${int(1, 9999)}`,
    '/blog',
    `/u/${pick(FIRST).toLowerCase()}`,
    '/api/v2/items',
    `/static/js/app.${hex(8)}.js`,
    '/wiki/O%27Brien_(surname)',
    '/c/caf%C3%A9-cr%C3%A8me',
  ]);
  return { method: 'GET', target: `${path}?${params.join('&')}`, headers: baseHeaders() };
}

function multipartRequest(): Req {
  const boundary = `----WebKitFormBoundary${b64(12).replace(/[^A-Za-z0-9]/g, 'x')}`;
  const file = pick([
    {
      name: 'report.csv',
      type: 'text/csv',
      content: `id,name,email,amount\n1,"${name()}",${email()},12.50\n2,"${name()}",${email()},7.00\n`,
    },
    { name: 'notes.txt', type: 'text/plain', content: `${sentence()}\n${sentence()}\n` },
    {
      name: "O'Brien CV (2024).pdf",
      type: 'application/pdf',
      content: `%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n${b64(60)}\n%%EOF\n`,
    },
    {
      name: 'avatar.png',
      type: 'image/png',
      content: `\x89PNG\r\n\x1a\n${Buffer.from(b64(90), 'base64').toString('latin1')}`,
    },
    {
      name: 'config.json',
      type: 'application/json',
      content: JSON.stringify({ theme: 'dark', items: [1, 2, 3], owner: name() }),
    },
    { name: 'readme.md', type: 'text/markdown', content: `# Project\n\n${pick(MD_INTRO)}\n\n${pick(CODE_SNIPPETS)}\n` },
  ]);
  const parts = [
    `--${boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\n${pick(SENTENCES_EN)}\r\n`,
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\nContent-Type: ${file.type}\r\n\r\n${file.content}\r\n`,
    `--${boundary}--\r\n`,
  ];
  const body = Buffer.from(parts.join(''), 'latin1');
  return {
    method: 'POST',
    target: pick(['/upload', '/api/v1/files', '/profile/avatar']),
    headers: [...baseHeaders(), ['content-type', `multipart/form-data; boundary=${boundary}`]],
    bodyBase64: body.toString('base64'),
  };
}

const requests: Req[] = [];
for (let i = 0; i < 2600; i++) {
  const r = int(0, 9);
  requests.push(r < 3 ? jsonRequest() : r < 5 ? formRequest() : r < 8 ? getRequest() : multipartRequest());
}

// --- write ---------------------------------------------------------------------------------

const dir = new URL('../corpus/benign/', import.meta.url);
mkdirSync(dir, { recursive: true });
let total = 0;
for (const [file, lines] of Object.entries(files)) {
  writeFileSync(new URL(file, dir), lines.join('\n') + '\n');
  total += lines.length;
  console.log(`${file}: ${lines.length}`);
}
writeFileSync(new URL('requests.jsonl', dir), requests.map((r) => JSON.stringify(r)).join('\n') + '\n');
total += requests.length;
console.log(`requests.jsonl: ${requests.length}\ntotal samples: ${total}`);
