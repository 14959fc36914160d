// End-to-end test: the Universal Viewer 4.4.0 (npm package, uv.html) in
// headless Debian Chromium opens a Presentation 3 manifest of the running
// stack whose canvas is a Video (an AV asset's own manifest,
// /iiif-manifest/{c}/{s}/{id}), and:
//   - shows its media player (UV picks its MediaElement extension for a
//     canvas of audio or video without ranges) with a <video> element whose
//     sources are the manifest's /iiif-av/ bodies (a Choice: each of them);
//   - the media plays when its own play button is pressed: currentTime
//     passes 1 s and the duration is the canvas's (within 0.5 s);
//   - the media requests are answered 200 or 206 with
//     Access-Control-Allow-Origin: *, and no request to the stack fails
//     (status >= 400 or a network error).
// A source format this Chromium cannot play is left to the player, which
// picks the next one (the WebM, VP9, royalty-free).
//
// Usage: node uv-av-test.mjs MANIFEST_URL
// Environment: CHROMIUM (default /usr/bin/chromium), AV_TIMEOUT_MS (60000),
// SHOTS_DIR (keep a screenshot there).
// Prints "browser-uv-av: N passed, N failed" last; exits 1 on any failure.
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const manifestUrl = process.argv[2];
const timeout = Number(process.env.AV_TIMEOUT_MS || 60000);
if (!manifestUrl) { console.error('usage: node uv-av-test.mjs MANIFEST_URL'); process.exit(2); }
const stackOrigin = new URL(manifestUrl).origin;

let passed = 0, failed = 0;
function check(ok, what, detail) {
  if (ok) { passed++; console.log(`ok   ${what}`); }
  else { failed++; console.log(`FAIL ${what}${detail ? ': ' + detail : ''}`); }
  return ok;
}

// uv.html and the viewer's package, nothing else
const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json',
  '.png': 'image/png', '.svg': 'image/svg+xml', '.woff': 'font/woff', '.woff2': 'font/woff2', '.ttf': 'font/ttf',
  '.gif': 'image/gif', '.map': 'application/json' };
const uvRoot = path.join(here, 'node_modules', 'universalviewer') + path.sep;
function serveStatic(req, res) {
  const p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  const file = path.join(here, path.normalize(p));
  const allowed = file === path.join(here, 'uv.html') || file.startsWith(uvRoot);
  if (!allowed || !fs.existsSync(file) || !fs.statSync(file).isFile()) { res.writeHead(404); res.end(); return; }
  res.writeHead(200, { 'Content-Type': types[path.extname(file)] || 'application/octet-stream' });
  fs.createReadStream(file).pipe(res);
}

const server = http.createServer(serveStatic);
await new Promise(r => server.listen(0, '127.0.0.1', r));
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'uv-av-chromium-'));
let context;
try {
  const manifest = await (await fetch(manifestUrl)).json();
  const canvas = (manifest.items || [])[0] || {};
  const body = canvas.items?.[0]?.items?.[0]?.body || {};
  const bodies = body.type === 'Choice' ? body.items || [] : [body];
  const media = bodies.map(b => b.id).filter(Boolean);
  check(canvas.duration > 0 && media.length > 0 && media.every(u => u.startsWith(stackOrigin + '/iiif-av/')) &&
    bodies.every(b => b.type === 'Video'),
  `the manifest's canvas is a Video of ${canvas.duration} s with ${media.length} /iiif-av/ bodies`,
  JSON.stringify(canvas).slice(0, 300));

  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--autoplay-policy=no-user-gesture-required'],
    viewport: { width: 1280, height: 900 },
  });
  const page = context.pages()[0] || await context.newPage();
  const failures = [], mediaResponses = [];
  let requests = 0;
  page.on('pageerror', e => console.log(`  pageerror: ${e.message}`));
  page.on('response', r => {
    const u = r.url();
    if (!u.startsWith(stackOrigin)) return;
    requests++;
    if (r.status() >= 400) failures.push(`${r.status()} ${u}`);
    if (media.includes(u))
      mediaResponses.push({ status: r.status(), acao: r.headers()['access-control-allow-origin'] });
  });
  page.on('requestfailed', r => {
    const u = r.url();
    // the player cancels the media requests it no longer needs (it seeks,
    // or moves on to the next source): not a failure of the stack
    if (!u.startsWith(stackOrigin) || r.failure()?.errorText === 'net::ERR_ABORTED') return;
    failures.push(`${r.failure()?.errorText} ${u}`);
  });
  await page.goto(`http://127.0.0.1:${server.address().port}/uv.html?manifest=${encodeURIComponent(manifestUrl)}`);

  // the player, with the manifest's media as its sources
  const video = page.locator('#uv video').first();
  await video.waitFor({ state: 'attached', timeout });
  const sources = await page.evaluate(() => {
    const v = document.querySelector('#uv video');
    return [...v.querySelectorAll('source')].map(s => s.src).concat(v.src ? [v.src] : []);
  });
  check(media.every(u => sources.includes(u)),
    `UV shows a <video> player whose sources are the manifest's media (${sources.length})`,
    `sources ${JSON.stringify(sources)}, manifest ${JSON.stringify(media)}`);

  // pressed play, as a user does
  const play = page.locator('#uv .mejs__playpause-button button').first();
  await play.waitFor({ state: 'visible', timeout });
  await page.evaluate(() => { document.querySelector('#uv video').muted = true; });
  await play.click();
  const deadline = Date.now() + timeout;
  let state = {};
  while (Date.now() < deadline) {
    state = await page.evaluate(() => {
      const v = document.querySelector('#uv video');
      return { currentTime: v.currentTime, duration: v.duration, readyState: v.readyState, src: v.currentSrc,
        error: v.error ? `${v.error.code} ${v.error.message}` : null, width: v.videoWidth, height: v.videoHeight };
    });
    if (state.error || state.currentTime > 1.0) break;
    await page.waitForTimeout(200);
  }
  check(!state.error && state.currentTime > 1.0 && media.includes(state.src),
    `the media plays in UV (currentTime ${state.currentTime?.toFixed(2)} of ${state.duration?.toFixed(2)} s, ` +
    `${(state.src || '').split('/').pop()})`, JSON.stringify(state));
  check(Math.abs(state.duration - canvas.duration) < 0.5 && state.width > 0 && state.height > 0,
    `its duration is the canvas's and it shows ${state.width}x${state.height} frames`, JSON.stringify(state));
  if (process.env.SHOTS_DIR) fs.writeFileSync(path.join(process.env.SHOTS_DIR, 'uv-av.png'), await page.screenshot());

  const bad = mediaResponses.filter(r => ![200, 206].includes(r.status) || r.acao !== '*');
  check(mediaResponses.length > 0 && bad.length === 0,
    `${requests} requests to the stack, ${mediaResponses.length} of them for the media, ` +
    'all 200/206 with Access-Control-Allow-Origin: *', JSON.stringify(bad));
  check(failures.length === 0, 'no request to the stack failed', failures.slice(0, 10).join('; '));
} catch (e) {
  check(false, 'test ran', e.stack || String(e));
} finally {
  if (context) await context.close().catch(() => {});
  server.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
console.log(`browser-uv-av: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
