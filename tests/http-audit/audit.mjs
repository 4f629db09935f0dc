// Usage: node audit.mjs http://127.0.0.1:8000/graphql
// Prints each non-ok result, then one JSON line {ok, notice, warn, error}.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql url>');
  process.exit(2);
}
const results = await auditServer({ url });
const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const result of results) {
  counts[result.status] += 1;
  if (result.status !== 'ok') {
    console.log(`${result.status.toUpperCase()} ${result.id} ${result.name}: ${result.reason ?? ''}`);
  }
}
console.log(JSON.stringify(counts));
