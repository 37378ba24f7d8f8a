/**
 * `shadowtap serve` from the sources (tsx), for the benchmark: the server runs in its own
 * process, like `node bin/shadowtap.js serve`, without needing `npm run build` first.
 */
import { main } from '../src/cli/main.js';

process.exitCode = await main(['serve', ...process.argv.slice(2)]);
