// The unmodified graphql-ws client subscribes to showcaseStories on the gateway and
// exits 0 once a story with the expected title arrives.
//
//   node subscribe.mjs ws://127.0.0.1:8000/graphql/ws "<title>" [<after cursor>]
//
// Prints "subscribed" once the connection is acknowledged, then the event as JSON.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, title, after] = process.argv.slice(2);
if (!url || !title) {
  console.error('usage: subscribe.mjs <ws url> <title> [after]');
  process.exit(64);
}

const timer = setTimeout(() => {
  console.error('timed out waiting for the story');
  process.exit(2);
}, 30_000);

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  lazy: false,
  retryAttempts: 0,
  connectionParams: {},
  on: {
    connected: () => console.log('subscribed'),
    closed: (event) => {
      if (event && event.code !== 1000) console.error(`closed ${event.code} ${event.reason}`);
    },
  },
});

client.subscribe(
  {
    query:
      'subscription($after: String) { showcaseStories(after: $after) { cursor seq kind storyId title } }',
    variables: { after: after || null },
  },
  {
    next: (result) => {
      if (result.errors) {
        console.error(JSON.stringify(result.errors));
        process.exit(1);
      }
      const event = result.data.showcaseStories;
      if (event.title === title) {
        console.log(JSON.stringify(event));
        clearTimeout(timer);
        client.dispose();
        process.exit(0);
      }
    },
    error: (error) => {
      console.error('subscription error', error);
      process.exit(1);
    },
    complete: () => {
      console.error('the subscription completed before the story arrived');
      process.exit(1);
    },
  },
);
