// End-to-end test: opens a IIIF image in OpenSeadragon (npm package) in
// headless Debian Chromium, waits until the viewer is fully loaded at home
// zoom and again after zooming in, checks that every info.json and tile
// request returned 200 with Access-Control-Allow-Origin: *, and checks that
// the screenshots show the image (a 4:3 test image with red, green, blue and
// yellow quadrants, made by tests/browser/run), not a blank viewer, and that
// no tile or info.json request reached dlcs-image: nginx answers every one
// from the stored file (the tile, full/'s link to the one-tile level, or the
// info.json copy beside them; nginx/dlcs.conf), as dlcs-image's log (one line
// per request it answers) shows.
//
// Usage: node osd-test.mjs INFO_JSON_URL [MIN_TILES [open-sizes]]
// open-sizes: the image is restricted and the viewer has no session, so
// only its open sizes may be drawn (a level 0 info.json of them,
// iiif/delivery.c restricted_info): the home view must show the image from
// whole-image requests no larger than maxWidth, every one 200, none
// refused; no zoom step (there is nothing finer) and no check of
// dlcs-image's log (it answers restricted images itself).
// Environment: CHROMIUM (default /usr/bin/chromium), SHOTS_DIR (keep the
// screenshots there), OSD_TIMEOUT_MS (default 60000), DLCS_IMAGE_LOG
// (dlcs-image's log, the stack's log/image.log; when unset or missing the
// dlcs-image check is skipped with a note, unless DLCS_IMAGE_LOG_REQUIRED=1).
// Prints "browser: N passed, N failed" last; exits 1 on any failure.
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { decodePng } from './png.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const infoUrl = process.argv[2];
const minTiles = Number(process.argv[3] || 4);
const openSizesOnly = process.argv[4] === 'open-sizes';
const timeout = Number(process.env.OSD_TIMEOUT_MS || 60000);
if (!infoUrl) { console.error('usage: node osd-test.mjs INFO_JSON_URL [MIN_TILES]'); process.exit(2); }
const imageBase = infoUrl.replace(/\/info\.json(\?.*)?$/, '/');
const imageLog = process.env.DLCS_IMAGE_LOG || '';
const imageLogRequired = process.env.DLCS_IMAGE_LOG_REQUIRED === '1';
// Where dlcs-image's log stood before the viewer's first request.
const logStart = imageLog && fs.existsSync(imageLog) ? fs.statSync(imageLog).size : null;

let passed = 0, failed = 0;
function check(ok, what, detail) {
  if (ok) { passed++; console.log(`ok   ${what}`); }
  else { failed++; console.log(`FAIL ${what}${detail ? ': ' + detail : ''}`); }
  return ok;
}

// --- a tiny static server for osd.html and node_modules ---------------------
const types = { '.html': 'text/html', '.js': 'text/javascript', '.png': 'image/png', '.map': 'application/json' };
function serveStatic(req, res) {
  const p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  if (p === '/favicon.ico') { res.writeHead(204); res.end(); return; }
  const file = path.join(here, path.normalize(p === '/' ? '/osd.html' : p));
  const allowed = file === path.join(here, 'osd.html') || file.startsWith(path.join(here, 'node_modules', 'openseadragon') + path.sep);
  if (!allowed || !fs.existsSync(file) || !fs.statSync(file).isFile()) { res.writeHead(404); res.end(); return; }
  res.writeHead(200, { 'Content-Type': types[path.extname(file)] || 'application/octet-stream' });
  fs.createReadStream(file).pipe(res);
}

function meanRgb(img, cx, cy, r) {
  const s = [0, 0, 0]; let n = 0;
  for (let y = cy - r; y <= cy + r; y++) for (let x = cx - r; x <= cx + r; x++) {
    const i = (y * img.width + x) * img.bpp;
    s[0] += img.data[i]; s[1] += img.data[i + 1]; s[2] += img.data[i + 2]; n++;
  }
  return s.map(v => Math.round(v / n));
}
function stddev(img) {
  let sum = 0, sq = 0, n = 0;
  for (let i = 0; i < img.data.length; i += img.bpp * 7) for (let k = 0; k < 3; k++) {
    const v = img.data[i + k]; sum += v; sq += v * v; n++;
  }
  const m = sum / n; return Math.sqrt(Math.max(0, sq / n - m * m));
}
const want = { red: [1, 0, 0], green: [0, 1, 0], blue: [0, 0, 1], yellow: [1, 1, 0] };
function looksLike(rgb, name) {
  return want[name].every((on, k) => on ? rgb[k] >= 150 : rgb[k] <= 90);
}
// The test image: red top-left, green top-right, blue bottom-left, yellow
// bottom-right. The viewer is 1024x768 and the image 4:3, so at home zoom and
// when zoomed in about the centre the quadrant centres stay in place.
function checkShot(shot, label) {
  const img = decodePng(shot);
  check(img.width === 1024 && img.height === 768, `${label}: screenshot is 1024x768`, `${img.width}x${img.height}`);
  const sd = stddev(img);
  check(sd > 30, `${label}: screenshot is not blank (stddev ${sd.toFixed(1)})`);
  const qx = [img.width / 4, img.width * 3 / 4].map(Math.round), qy = [img.height / 4, img.height * 3 / 4].map(Math.round);
  for (const [name, x, y] of [['red', qx[0], qy[0]], ['green', qx[1], qy[0]], ['blue', qx[0], qy[1]], ['yellow', qx[1], qy[1]]]) {
    const rgb = meanRgb(img, x, y, 12);
    check(looksLike(rgb, name), `${label}: ${name} at (${x},${y})`, `rgb(${rgb.join(',')})`);
  }
}

// --- which requests dlcs-image answered ------------------------------------------
// dlcs-image logs "... GET {path} {status} ..." for each request it answers.
// A probe only it answers (a computed size), requested after the viewer's,
// shows that its log has caught up; then none of the tile paths may be in
// what was logged since the start.
function logSince(start) {
  const fd = fs.openSync(imageLog, 'r');
  try {
    const len = Math.max(0, fs.fstatSync(fd).size - start), buf = Buffer.alloc(len);
    fs.readSync(fd, buf, 0, len, start);
    return buf.toString('utf8');
  } finally { fs.closeSync(fd); }
}
async function checkNotThroughDlcsImage(tileUrls, what = 'tile requests') {
  if (logStart === null) {
    const why = imageLog ? `${imageLog} is missing` : 'DLCS_IMAGE_LOG is not set';
    if (imageLogRequired) check(false, 'dlcs-image log readable', why);
    else console.log(`note: ${why}: not checked whether tile requests reached dlcs-image`);
    return;
  }
  const probe = `${imageBase}full/pct:3.5/0/default.jpg`, probePath = new URL(probe).pathname;
  let logged = false;
  try {
    const r = await fetch(probe);
    await r.arrayBuffer();
    for (const end = Date.now() + 10000; !logged && Date.now() < end;) {
      logged = logSince(logStart).includes(` GET ${probePath} 200 `);
      if (!logged) await new Promise(r => setTimeout(r, 100));
    }
  } catch (e) { /* reported below */ }
  if (!check(logged, `dlcs-image logs its requests (${probePath} in ${imageLog})`)) return;
  const log = logSince(logStart);
  const paths = tileUrls.map(u => { const x = new URL(u); return x.pathname + x.search; });
  const went = paths.filter(p => log.includes(` GET ${p} `));
  const full = paths.filter(p => p.includes('/full/')).length;
  check(paths.length > 0 && went.length === 0,
    `none of the ${paths.length} ${what} (${full} of them full-region) reached dlcs-image`,
    went.slice(0, 10).join('; '));
}

// --- open sizes only: what a viewer without a session draws -------------------
async function checkOpenSizes(responses) {
  const info = await (await fetch(infoUrl)).json();
  const max = info.maxWidth ? Math.max(info.maxWidth, info.maxHeight) : 0;
  check(info.profile === 'level0' && !info.tiles && max > 0,
    `info.json without a session: level0, no tiles, maxWidth ${info.maxWidth}`, JSON.stringify(info).slice(0, 300));
  const images = responses.filter(r => !r.url.includes('/info.json'));
  const sizeOf = u => (new URL(u).pathname.match(/\/full\/(\d+),(\d*)\/0\/default\.\w+$/) || []).slice(1).map(Number);
  const beyond = images.filter(r => { const [w, h] = sizeOf(r.url); return !w || Math.max(w, h || 0) > max; });
  check(images.length >= 1 && beyond.length === 0,
    `${images.length} image requests, each the whole image at an open size (<= ${max})`,
    beyond.slice(0, 5).map(r => r.url).join('; '));
}

// --- the test -----------------------------------------------------------------
const server = http.createServer(serveStatic);
await new Promise(r => server.listen(0, '127.0.0.1', r));
const pageUrl = `http://127.0.0.1:${server.address().port}/osd.html?info=${encodeURIComponent(infoUrl)}`;
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'osd-chromium-'));
let context;
const responses = [], requestFailures = [];
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1024, height: 768 },
  });
  const page = context.pages()[0] || await context.newPage();
  page.on('console', m => { if (m.type() === 'error') console.log(`  console: ${m.text()}`); });
  page.on('pageerror', e => console.log(`  pageerror: ${e.message}`));
  page.on('response', r => {
    if (r.url().startsWith(imageBase))
      responses.push({ url: r.url(), status: r.status(), acao: r.headers()['access-control-allow-origin'] });
  });
  page.on('requestfailed', r => {
    if (r.url().startsWith(imageBase)) requestFailures.push(`${r.url()} ${r.failure()?.errorText}`);
  });
  await page.goto(pageUrl);

  const waitLoaded = async (minEvents, label) => {
    try {
      await page.waitForFunction(m => window.osdState.openFailed || window.osdReady(m), minEvents, { timeout, polling: 100 });
    } catch (e) { /* reported below */ }
    const st = await page.evaluate(() => window.osdState);
    const ok = !st.openFailed && await page.evaluate(m => window.osdReady(m), minEvents);
    check(ok, `${label}: viewer fully loaded`, st.openFailed || `state ${JSON.stringify(st)}`);
    // two frames so the canvas shows the last drawn tiles
    await page.evaluate(() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))));
    return ok;
  };

  if (await waitLoaded(1, 'home zoom')) {
    const homeTiles = responses.filter(r => !r.url.includes('/info.json')).length;
    const shot1 = await page.screenshot({ type: 'png' });
    if (process.env.SHOTS_DIR) fs.writeFileSync(path.join(process.env.SHOTS_DIR, 'osd-home.png'), shot1);
    checkShot(shot1, 'home zoom');
    if (openSizesOnly) await checkOpenSizes(responses);
    else await zoomIn(homeTiles, shot1);
    const st = await page.evaluate(() => window.osdState);
    check(st.tileFailures.length === 0, 'no tile-load-failed events', st.tileFailures.slice(0, 5).join('; '));
  }
  async function zoomIn(homeTiles, shot1) {
    const { target, before } = await page.evaluate(() => window.osdZoom(4));
    await waitLoaded(before + 1, 'zoomed in x4');
    const zoom = await page.evaluate(() => window.viewer.viewport.getZoom(true));
    check(Math.abs(zoom - target) < 1e-6 * target, `zoomed in x4: zoom ${zoom.toFixed(3)} is ${target.toFixed(3)}`);
    const zoomTiles = responses.filter(r => !r.url.includes('/info.json')).length - homeTiles;
    check(zoomTiles > 0, `zoomed in x4: ${zoomTiles} more tile requests`);
    const shot2 = await page.screenshot({ type: 'png' });
    if (process.env.SHOTS_DIR) fs.writeFileSync(path.join(process.env.SHOTS_DIR, 'osd-zoomed.png'), shot2);
    checkShot(shot2, 'zoomed in x4');
    const a = decodePng(shot1), b = decodePng(shot2);
    let diff = 0;
    for (let i = 0; i < Math.min(a.data.length, b.data.length); i++) diff += Math.abs(a.data[i] - b.data[i]);
    diff /= Math.min(a.data.length, b.data.length);
    check(diff > 10, `zoomed in x4: screenshot differs from home zoom (mean |diff| ${diff.toFixed(1)})`);
  }

  const info = responses.filter(r => r.url.includes('/info.json'));
  const tiles = responses.filter(r => !r.url.includes('/info.json'));
  check(info.length >= 1, `info.json requested (${info.length})`);
  check(tiles.length >= minTiles, `at least ${minTiles} tile requests (${tiles.length})`);
  const bad = responses.filter(r => r.status !== 200 || r.acao !== '*');
  check(bad.length === 0, `all ${responses.length} info/tile responses are 200 with Access-Control-Allow-Origin: *`,
    bad.slice(0, 10).map(r => `${r.status} acao=${r.acao} ${r.url}`).join('; '));
  check(requestFailures.length === 0, 'no failed image requests', requestFailures.slice(0, 10).join('; '));
  if (!openSizesOnly) {
    await checkNotThroughDlcsImage(tiles.map(r => r.url));
    // info.json too: nginx's copy beside the tiles (handlers/asset/info_static.h)
    await checkNotThroughDlcsImage(info.map(r => r.url), 'info.json requests');
  }
  if (process.env.VERBOSE) for (const r of responses) console.log(`  ${r.status} ${r.acao} ${r.url}`);
} catch (e) {
  check(false, 'test ran', e.stack || String(e));
} finally {
  if (context) await context.close().catch(() => {});
  server.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
