// node graphiql.mjs <base URL>
// Opens GraphiQL at {base}/ with every request that leaves the server refused (as on a
// network without internet), types a query, runs it, and prints the response pane's
// text as {"response": ...}.
import { main, withPage } from './browser.mjs';

const [base] = process.argv.slice(2);
if (!base) {
  console.error('usage: node graphiql.mjs <base URL>');
  process.exit(2);
}

const QUERY = '{ z: __typename a: stations(kind: LIAISON_STATION, brand: true) { totalCount } }';

main(() => withPage(base, async (page) => {
  await page.goto(`${base}/`);
  const editor = page.locator('.graphiql-query-editor .CodeMirror');
  await editor.waitFor({ state: 'visible' });
  await editor.evaluate((node, query) => node.CodeMirror.setValue(query), QUERY);
  await page.locator('.graphiql-execute-button').click();
  await page.waitForFunction(
    () => (document.querySelector('.result-window')?.textContent || '').includes('totalCount'),
  );
  const response = await page.locator('.result-window .CodeMirror').evaluate(
    (node) => node.CodeMirror.getValue(),
  );
  return { response: JSON.parse(response) && response };
}, { desktop: true }));
