// Starts GraphiQL (vendored, see assets/graphiql/README.md) against the endpoints the
// page names (this server's /graphql and, for subscriptions, /graphql/ws); the example
// query is the README's.
(function () {
  const root = document.getElementById('graphiql');
  const here = (path, socket) => {
    const url = new URL(path, window.location.origin);
    if (socket) url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return url.toString();
  };
  const example = [
    '{',
    '  liaison: stations(kind: LIAISON_STATION, brand: true) { totalCount }',
    '  points:  stations(kind: SERVICE_POINT) { totalCount }',
    '  posts:   stations(kind: SERVICE_POST) { totalCount }',
    '  base:    stations(kind: DEMONSTRATION_BASE) { edges { node { name feature } } }',
    '}',
    '',
  ].join('\n');
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: GraphiQL.createFetcher({
        url: here(root.dataset.endpoint),
        subscriptionUrl: here(root.dataset.subscriptions, true),
      }),
      defaultQuery: example,
      defaultEditorToolsVisibility: true,
    }),
  );
})();
