// node apollo_apq.mjs <base URL>
// An unmodified Apollo Client (@apollo/client's PersistedQueryLink over HttpLink, hashed
// queries over GET, mutations over POST) against the gateway: each operation twice, in
// fresh clients, so the second run finds the hash the first one registered.
// Prints {"runs": [...data...], "requests": [{method, hash, text}]} as JSON.
import { createHash } from 'node:crypto';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';

const [base] = process.argv.slice(2);
if (!base) {
  console.error('usage: node apollo_apq.mjs <base URL>');
  process.exit(2);
}

const requests = [];
// Records what goes on the wire, then sends it.
async function recordingFetch(url, init) {
  const target = new URL(url);
  let body = {};
  if (init.method === 'GET') {
    for (const key of ['query', 'extensions']) {
      const value = target.searchParams.get(key);
      if (value !== null) body[key] = key === 'extensions' ? JSON.parse(value) : value;
    }
  } else {
    body = JSON.parse(init.body);
  }
  requests.push({
    method: init.method,
    hash: !!(body.extensions && body.extensions.persistedQuery),
    text: typeof body.query === 'string',
  });
  return fetch(url, init);
}

const sha256 = (text) => createHash('sha256').update(text).digest('hex');
const client = () => new ApolloClient({
  cache: new InMemoryCache(),
  link: new PersistedQueryLink({ sha256, useGETForHashedQueries: true }).concat(
    new HttpLink({ uri: `${base}/graphql`, fetch: recordingFetch }),
  ),
});

const CATEGORIES = gql`query ApolloCategories { categories { id name } }`;

try {
  const runs = [];
  for (let i = 0; i < 2; i++) {
    const result = await client().query({ query: CATEGORIES, fetchPolicy: 'network-only' });
    runs.push(result.data);
  }
  console.log(JSON.stringify({ runs, requests }));
} catch (e) {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
}
