// End-to-end test: Mirador 4 and the Universal Viewer (npm packages, their
// own bundled OpenSeadragon 5.0.1 and 6) in headless Debian Chromium open a
// named-query manifest of the running stack, and each must show the first
// canvas's WHOLE image, then the whole image of each further canvas it is
// paged to with its own "next" button, while no request they make to the
// stack fails.
//
// "Whole" is checked region by region: the test images (tests/browser/run)
// are a grid of coloured cells inside a magenta frame. In a screenshot of
// the viewer's OpenSeadragon canvas the frame gives where the image is
// drawn; that rectangle is cut into 8 x 8 regions, and each region's median
// colour must match the same region of a downscaled render of the image
// (a reference PNG). A viewer that draws only part of the image (Mirador 4
// on an info.json whose sizes it misreads drew the top-left 1024 x 768 of a
// 1600 x 1200 image) shows other colours there.
//
// Usage: node viewers-test.mjs MANIFEST_URL CHECK...
//   CHECK is INDEX:REFERENCE_PNG (canvas index from 0, ascending, 0 first)
// Environment: CHROMIUM (default /usr/bin/chromium), SHOTS_DIR (keep the
// screenshots there), VIEWER_TIMEOUT_MS (default 90000 per canvas).
// Prints "browser: N passed, N failed" last; exits 1 on any failure.
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { decodePng } from './png.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const manifestUrl = process.argv[2];
const checks = process.argv.slice(3).map(a => {
  const i = a.indexOf(':');
  return { index: Number(a.slice(0, i)), ref: decodePng(fs.readFileSync(a.slice(i + 1))), file: a.slice(i + 1) };
});
const timeout = Number(process.env.VIEWER_TIMEOUT_MS || 90000);
if (!manifestUrl || !checks.length) {
  console.error('usage: node viewers-test.mjs MANIFEST_URL INDEX:REFERENCE_PNG...');
  process.exit(2);
}
const stackOrigin = new URL(manifestUrl).origin;

let passed = 0, failed = 0;
function check(ok, what, detail) {
  if (ok) { passed++; console.log(`ok   ${what}`); }
  else { failed++; console.log(`FAIL ${what}${detail ? ': ' + detail : ''}`); }
  return ok;
}

// --- a static server for the pages and the viewers' packages ----------------
const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css',
  '.json': 'application/json', '.png': 'image/png', '.svg': 'image/svg+xml', '.woff': 'font/woff',
  '.woff2': 'font/woff2', '.ttf': 'font/ttf', '.gif': 'image/gif', '.ico': 'image/x-icon', '.map': 'application/json' };
const roots = ['mirador', 'universalviewer'].map(p => path.join(here, 'node_modules', p) + path.sep);
function serveStatic(req, res) {
  const p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  if (p === '/favicon.ico') { res.writeHead(204); res.end(); return; }
  const file = path.join(here, path.normalize(p));
  const allowed = ['mirador.html', 'uv.html'].some(f => file === path.join(here, f)) ||
    roots.some(r => file.startsWith(r));
  if (!allowed || !fs.existsSync(file) || !fs.statSync(file).isFile()) { res.writeHead(404); res.end(); return; }
  res.writeHead(200, { 'Content-Type': types[path.extname(file)] || 'application/octet-stream' });
  fs.createReadStream(file).pipe(res);
}

// --- where the image is drawn, and whether it is all there -----------------
const isFrame = (d, i) => d[i] > 170 && d[i + 1] < 90 && d[i + 2] > 170;
// The rectangle the magenta frame spans in a screenshot, or null.
function frameBox(img) {
  let x0 = img.width, y0 = img.height, x1 = -1, y1 = -1, n = 0;
  for (let y = 0; y < img.height; y++) for (let x = 0; x < img.width; x++) {
    if (!isFrame(img.data, (y * img.width + x) * img.bpp)) continue;
    n++; if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y;
  }
  return n > 50 && x1 - x0 > 40 && y1 - y0 > 40 ? { x0, y0, x1, y1 } : null;
}
function median(values) { values.sort((a, b) => a - b); return values[values.length >> 1]; }
// Median colour of the central half of region (rx, ry) of an N x N grid over box.
function regionColour(img, box, rx, ry, N) {
  const w = box.x1 - box.x0 + 1, h = box.y1 - box.y0 + 1;
  const xa = box.x0 + Math.floor((rx + 0.25) * w / N), xb = box.x0 + Math.floor((rx + 0.75) * w / N);
  const ya = box.y0 + Math.floor((ry + 0.25) * h / N), yb = box.y0 + Math.floor((ry + 0.75) * h / N);
  const ch = [[], [], []];
  for (let y = ya; y <= yb; y++) for (let x = xa; x <= xb; x++) {
    const i = (y * img.width + x) * img.bpp;
    for (let k = 0; k < 3; k++) ch[k].push(img.data[i + k]);
  }
  return ch.map(median);
}
const N = 8;
// How many of the N x N regions of the drawn image match the reference.
function compare(shot, ref) {
  const box = frameBox(shot);
  if (!box) return { box: null, matching: 0, worst: 'no frame found' };
  const aspect = (box.x1 - box.x0 + 1) / (box.y1 - box.y0 + 1), refAspect = ref.width / ref.height;
  const all = { x0: 0, y0: 0, x1: ref.width - 1, y1: ref.height - 1 };
  let matching = 0, worst = '';
  for (let ry = 0; ry < N; ry++) for (let rx = 0; rx < N; rx++) {
    const a = regionColour(shot, box, rx, ry, N), b = regionColour(ref, all, rx, ry, N);
    const d = Math.max(...a.map((v, k) => Math.abs(v - b[k])));
    if (d <= 45) matching++;
    else if (!worst) worst = `region ${rx},${ry}: rgb(${a}) instead of rgb(${b})`;
  }
  return { box, matching, worst, aspectOk: Math.abs(aspect - refAspect) / refAspect < 0.03 };
}

// The viewer's OpenSeadragon canvas as drawn, without the controls a
// viewer lays over it (Mirador's translucent canvas navigation bar).
async function osdShot(page, overlays) {
  const el = page.locator('.openseadragon-canvas').first();
  const show = ([sel, v]) => { for (const e of document.querySelectorAll(sel)) e.style.visibility = v; };
  for (const sel of overlays) await page.evaluate(show, [sel, 'hidden']);
  try {
    return decodePng(await el.screenshot({ type: 'png', timeout: 5000 }));
  } finally {
    for (const sel of overlays) await page.evaluate(show, [sel, '']);
  }
}

// Polls until the drawn image matches the reference (tiles arrive over
// time), or the timeout; returns the last comparison.
async function waitWhole(page, ref, label, overlays) {
  const deadline = Date.now() + timeout;
  let last = { matching: 0, worst: 'no screenshot' }, shot = null;
  while (Date.now() < deadline) {
    try {
      shot = await osdShot(page, overlays);
      last = compare(shot, ref);
      if (last.box && last.aspectOk && last.matching === N * N) break;
    } catch (e) { last = { matching: 0, worst: String(e.message || e) }; }
    await page.waitForTimeout(500);
  }
  if (process.env.SHOTS_DIR && shot) {
    const raw = await page.screenshot({ type: 'png' });
    fs.writeFileSync(path.join(process.env.SHOTS_DIR, `${label.replace(/[^a-z0-9]+/gi, '-')}.png`), raw);
  }
  const box = last.box ? `${last.box.x1 - last.box.x0 + 1}x${last.box.y1 - last.box.y0 + 1}` : 'none';
  check(last.box && last.aspectOk && last.matching === N * N,
    `${label}: the whole image is drawn (${last.matching}/${N * N} regions match the reference, frame ${box})`,
    last.worst);
}

async function runViewer(context, name, pageName, overlays, goTo) {
  const page = await context.newPage();
  const failures = [];
  let requests = 0;
  page.on('pageerror', e => console.log(`  ${name} pageerror: ${e.message}`));
  // Every request to the stack counts; the viewers' own files come from
  // the test's server, where a miss is the viewer's business (the
  // Universal Viewer 4.4.0 asks for "images/data:image/gif;base64,..." from
  // a CSS rule): noted, not failed.
  const notes = [];
  page.on('response', r => {
    const u = r.url();
    if (!u.startsWith(stackOrigin)) {
      if (r.status() >= 400) notes.push(`${r.status()} ${u.slice(0, 100)}`);
      return;
    }
    requests++;
    if (r.status() >= 400) failures.push(`${r.status()} ${u}`);
  });
  page.on('requestfailed', r => {
    const u = r.url();
    // a tile request the viewer itself cancelled (it moved on) is not a failure
    if (!u.startsWith(stackOrigin) || r.failure()?.errorText === 'net::ERR_ABORTED') return;
    failures.push(`${r.failure()?.errorText} ${u}`);
  });
  await page.goto(`http://127.0.0.1:${port}/${pageName}?manifest=${encodeURIComponent(manifestUrl)}`);
  let at = 0;
  for (const c of checks) {
    for (; at < c.index; at++) await goTo(page);
    await waitWhole(page, c.ref, `${name} canvas ${c.index + 1} (${path.basename(c.file, '.png')})`, overlays);
  }
  check(requests > checks.length, `${name}: ${requests} requests to the stack`);
  check(failures.length === 0, `${name}: no request to the stack failed`, failures.slice(0, 10).join('; '));
  for (const n of notes.slice(0, 5)) console.log(`  note: ${name} asked the test's server for a file it does not have: ${n}`);
  await page.close();
}

const server = http.createServer(serveStatic);
await new Promise(r => server.listen(0, '127.0.0.1', r));
const port = server.address().port;
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'viewers-chromium-'));
let context;
try {
  const manifest = await (await fetch(manifestUrl)).json();
  const canvasIds = (manifest.items || []).map(c => c.id);
  check(canvasIds.length >= 20, `the manifest has ${canvasIds.length} canvases (at least 20)`);
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  // Paging as a user does, with each viewer's own "next" button. Mirador
  // keeps the zoom and centre of the canvas it leaves (in canvas pixels),
  // so a larger canvas opens zoomed in; its "Reset zoom" button shows the
  // whole canvas, as a user would press it.
  await runViewer(context, 'Mirador 4', 'mirador.html', ['.mirador-canvas-nav'], async page => {
    await page.locator('.mirador-next-canvas-button').first().click();
    await page.waitForTimeout(1500);
    await page.getByRole('button', { name: 'Reset zoom' }).first().click();
  });
  await runViewer(context, 'Universal Viewer', 'uv.html', [], async page => {
    await page.locator('button.imageBtn.next').first().click();
  });
} catch (e) {
  check(false, 'test ran', e.stack || String(e));
} finally {
  if (context) await context.close().catch(() => {});
  server.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
