// Resuming a subscription with the unmodified graphql-ws client: across a gateway restart
// (or a dropped mobile connection) nothing is lost and nothing arrives twice.
//
//   node resume.mjs ws://127.0.0.1:8000/graphql/ws "<saved cursor>" "<last title>"
//
// Prints every story event as one line of JSON, "connected" on each connection and
// "closed <code>" on each close; exits 0 once the story titled <last title> arrives.
// The part between the README markers is quoted verbatim in README.md ("Resuming with
// the graphql-ws client") and run by tests/api/resume.rs.
import WebSocket from 'ws';

const [url, savedCursor, lastTitle] = process.argv.slice(2);
if (!url || !lastTitle) {
  console.error('usage: resume.mjs <ws url> <saved cursor or ""> <last title>');
  process.exit(64);
}
// Your sign-in: a valid access token, refreshed when needed. Stories are public, so
// here none.
const freshAccessToken = async () => undefined;
const show = (event) => {
  console.log(JSON.stringify(event));
  if (event.title === lastTitle) process.exit(0);
};
const fail = (error) => {
  console.error('subscription failed', JSON.stringify(error));
  process.exit(1);
};
// A hang guard for the test, not part of the technique.
setTimeout(() => fail('timed out'), 240_000).unref();

// README: resume (begin)
import { createClient } from 'graphql-ws';

const client = createClient({
  url, // e.g. wss://gateway.example/graphql/ws
  webSocketImpl: WebSocket, // Node only: browsers have WebSocket built in
  // Read on every (re)connect: after a 4403 (token expired) it retries with a new one.
  connectionParams: async () => ({ token: await freshAccessToken() }),
  retryAttempts: Infinity, // keep reconnecting through a restart or a deploy
  retryWait: (retries) => // about 1 s, 2 s, 4 s, ... at most 30 s, with jitter
    new Promise((resolve) =>
      setTimeout(resolve, Math.min(1000 * 2 ** retries, 30_000) * (0.5 + Math.random())),
    ),
});

// On every reconnect graphql-ws sends this same object again (serialised anew), so
// `after` must always hold the cursor of the last event received: the gateway then
// replays exactly what was missed. Without `after` the events of the outage would be
// lost; with a fixed `after`, events already seen would arrive again.
const request = {
  query:
    'subscription($after: String) { showcaseStories(after: $after) { cursor seq storyId title } }',
  variables: { after: savedCursor || null }, // null: from now on
};

client.subscribe(request, {
  next: (result) => {
    if (result.errors) return fail(result.errors);
    const event = result.data.showcaseStories;
    // First thing, synchronously: a reconnect can happen at any await.
    request.variables.after = event.cursor;
    show(event); // and keep event.cursor (e.g. localStorage) to resume after a reload
  },
  // The subscription ended: the gateway refused the operation or closed the
  // connection for good (e.g. 4400); subscribe again later with the same `request`.
  error: fail,
  complete: () => fail('completed'),
});
// README: resume (end)

client.on('connected', () => console.log('connected'));
client.on('closed', (event) => console.log(`closed ${event?.code}`));
