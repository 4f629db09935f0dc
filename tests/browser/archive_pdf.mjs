// node archive_pdf.mjs <base URL> <path> <bearer token> <out.pdf>
// Opens a deputy's printable archive with the token (as an app's web view would),
// prints it to an A4 PDF the way Chromium's print dialog does (the page's own @page
// rules, a page-number footer) and prints {"status": ..., "pdf": <out.pdf>}.
import { main, withPage } from './browser.mjs';

const [base, path, token, out] = process.argv.slice(2);
if (!out) {
  console.error('usage: node archive_pdf.mjs <base URL> <path> <token> <out.pdf>');
  process.exit(2);
}

main(() => withPage(base, async (page) => {
  await page.setExtraHTTPHeaders({ Authorization: `Bearer ${token}` });
  const response = await page.goto(`${base}${path}`);
  await page.emulateMedia({ media: 'print' });
  await page.pdf({
    path: out,
    format: 'A4',
    preferCSSPageSize: true,
    printBackground: true,
    displayHeaderFooter: true,
    headerTemplate: '<span></span>',
    footerTemplate:
      '<div style="font-size:8pt;width:100%;text-align:center">第 <span class="pageNumber"></span> 页 / 共 <span class="totalPages"></span> 页</div>',
  });
  return { status: response.status(), pdf: out };
}, { desktop: true }));
