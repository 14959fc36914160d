// End-to-end test of the IIIF Authorization Flow 2.0 in headless Chromium:
// auth.html (a small Auth 2.0 client, served from another origin than the
// stack's) opens a restricted image: the probe says 401, the user clicks
// through in the window the access service opens, the token arrives by
// postMessage, the probe says 200, and OpenSeadragon loads the tiles with
// the session cookie. A request without the cookie still gets no tile.
//
// Usage: node auth-test.mjs INFO_JSON_URL
// Prints "browser-auth: N passed, N failed" last; exits 1 on any failure.
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const infoUrl = process.argv[2];
const timeout = Number(process.env.OSD_TIMEOUT_MS || 60000);
if (!infoUrl) { console.error('usage: node auth-test.mjs INFO_JSON_URL'); process.exit(2); }
const imageBase = infoUrl.replace(/\/info\.json$/, '/');

let passed = 0, failed = 0;
function check(ok, what, detail) {
  if (ok) { passed++; console.log(`ok   auth: ${what}`); }
  else { failed++; console.log(`FAIL auth: ${what}${detail ? ': ' + detail : ''}`); }
  return ok;
}

function serveStatic(req, res) {
  const p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  const file = path.join(here, path.normalize(p === '/' ? '/auth.html' : p));
  const allowed = file === path.join(here, 'auth.html') ||
    file.startsWith(path.join(here, 'node_modules', 'openseadragon') + path.sep);
  if (!allowed || !fs.existsSync(file) || !fs.statSync(file).isFile()) { res.writeHead(404); res.end(); return; }
  res.writeHead(200, { 'Content-Type': file.endsWith('.html') ? 'text/html' : 'text/javascript' });
  fs.createReadStream(file).pipe(res);
}

const server = http.createServer(serveStatic);
await new Promise(r => server.listen(0, '127.0.0.1', r));
const pageUrl = `http://127.0.0.1:${server.address().port}/auth.html?info=${encodeURIComponent(infoUrl)}`;
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'auth-chromium-'));
let context;
const tiles = [];
try {
  // without a session: no tile
  const before = await fetch(imageBase + '0,0,1024,1024/256,/0/default.jpg');
  check(before.status === 401, `a tile without a session is ${before.status}`);

  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1024, height: 768 },
  });
  const page = context.pages()[0] || await context.newPage();
  page.on('pageerror', e => console.log(`  pageerror: ${e.message}`));
  page.on('response', r => {
    if (r.url().startsWith(imageBase) && !r.url().endsWith('/info.json')) tiles.push({ url: r.url(), status: r.status() });
  });
  await page.goto(pageUrl);
  await page.waitForFunction(() => window.authState.ready || window.authState.error, null, { timeout });
  let st = await page.evaluate(() => window.authState);
  check(!st.error && st.probes[0] === 401, 'the probe says 401 before the login', st.error || JSON.stringify(st.probes));

  const popupP = page.waitForEvent('popup', { timeout });
  await page.click('#login');
  const popup = await popupP;
  await popup.waitForLoadState();
  check(/\/auth\/v2\/access\//.test(popup.url()), `the access service opened in a window (${popup.url()})`);
  const closed = popup.waitForEvent('close', { timeout });
  await popup.click('#confirm');
  await closed;
  check(true, 'the access window closed itself after the click-through');

  await page.waitForFunction(() => window.authState.fullyLoaded || window.authState.error ||
    window.authState.openFailed, null, { timeout, polling: 100 }).catch(() => {});
  st = await page.evaluate(() => window.authState);
  check(!st.error, 'no error in the client', st.error);
  check(/^[0-9a-f]{64}$/.test(st.token || ''), 'the token arrived by postMessage');
  check(st.probes[1] === 200, 'the probe with the token says 200', JSON.stringify(st.probes));
  check(st.opened && st.fullyLoaded && !st.openFailed, 'the viewer loaded the restricted image', JSON.stringify(st));
  check(st.tileFailures.length === 0, 'no tile failed to load', st.tileFailures.slice(0, 5).join('; '));
  const bad = tiles.filter(t => t.status !== 200);
  check(tiles.length >= 4 && bad.length === 0, `all ${tiles.length} tile responses are 200`,
    bad.slice(0, 5).map(t => `${t.status} ${t.url}`).join('; '));
  const shot = await page.screenshot({ type: 'png' });
  check(shot.length > 10000, `the screenshot holds an image (${shot.length} bytes)`);

  // the cookie is the browser's: a client without it still gets nothing
  const after = await fetch(tiles.length ? tiles[0].url : imageBase + 'full/max/0/default.jpg');
  check(after.status === 401, `the same tile without the cookie is ${after.status}`);
} catch (e) {
  check(false, 'test ran', e.stack || String(e));
} finally {
  if (context) await context.close().catch(() => {});
  server.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
console.log(`browser-auth: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
