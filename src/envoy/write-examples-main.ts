/*
 * Entry point of `npm run gen:envoy-examples`: regenerates the committed examples in envoy/
 * (test/envoy-examples.test.ts checks they are up to date).
 */
import { writeExamples } from './examples.js';

const dir = process.argv[2] ?? 'envoy';
for (const file of writeExamples(dir)) process.stdout.write(`${dir}/${file}\n`);
