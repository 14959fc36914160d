// End-to-end test: the delivered transcodes of a video asset play in a
// <video> element of headless Debian Chromium, loaded cross-origin with
// crossorigin="anonymous" (so CORS must hold): for each URL the element
// reaches HAVE_ENOUGH_DATA, plays, and currentTime advances past 1 s; the
// media requests are 200 or 206 (Chromium fetches media with byte ranges)
// with Access-Control-Allow-Origin: *. A format this Chromium cannot play
// (canPlayType "", e.g. H.264 in a build without proprietary codecs) is
// reported and skipped; the WebM (VP9, royalty-free) must play.
//
// Usage: node av-test.mjs URL...   (each a /iiif-av/... video URL)
// Environment: CHROMIUM (default /usr/bin/chromium), AV_TIMEOUT_MS (30000).
// Prints "browser-av: N passed, N failed" last; exits 1 on any failure.
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const urls = process.argv.slice(2);
const timeout = Number(process.env.AV_TIMEOUT_MS || 30000);
if (!urls.length) { console.error('usage: node av-test.mjs URL...'); process.exit(2); }

let passed = 0, failed = 0;
function check(ok, what, detail) {
  if (ok) { passed++; console.log(`ok   ${what}`); }
  else { failed++; console.log(`FAIL ${what}${detail ? ': ' + detail : ''}`); }
  return ok;
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>av</title>
<video id="v" crossorigin="anonymous" muted playsinline preload="auto" width="320"></video>`;
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/html' });
  res.end(PAGE);
});
await new Promise(r => server.listen(0, '127.0.0.1', r));
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'av-chromium-'));
let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--autoplay-policy=no-user-gesture-required'],
  });
  const page = context.pages()[0] || await context.newPage();
  const responses = [];
  page.on('response', r => {
    if (urls.some(u => r.url() === u))
      responses.push({ url: r.url(), status: r.status(), acao: r.headers()['access-control-allow-origin'] });
  });
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  for (const url of urls) {
    const ext = url.split('.').pop();
    const type = ext === 'webm' ? 'video/webm; codecs="vp9, opus"' : 'video/mp4; codecs="avc1.64001f, mp4a.40.2"';
    const can = await page.evaluate(t => document.getElementById('v').canPlayType(t), type);
    if (!can && ext !== 'webm') {
      console.log(`skip ${ext}: this Chromium cannot play ${type}`);
      continue;
    }
    check(can !== '', `${ext}: canPlayType is "${can}"`);
    const result = await page.evaluate(async ({ url, timeout }) => {
      const v = document.getElementById('v');
      v.src = url;
      const t0 = performance.now();
      try { await v.play(); } catch (e) { return { error: 'play(): ' + e.message }; }
      while (performance.now() - t0 < timeout) {
        if (v.error) return { error: `media error ${v.error.code} ${v.error.message}` };
        if (v.currentTime > 1.0) break;
        await new Promise(r => setTimeout(r, 100));
      }
      const out = { currentTime: v.currentTime, duration: v.duration, readyState: v.readyState,
        width: v.videoWidth, height: v.videoHeight };
      v.pause();
      return out;
    }, { url, timeout });
    check(!result.error && result.currentTime > 1.0,
      `${ext}: plays (currentTime ${result.currentTime?.toFixed(2)} of ${result.duration?.toFixed(2)} s)`,
      JSON.stringify(result));
    check(result.width > 0 && result.height > 0, `${ext}: shows ${result.width}x${result.height} frames`);
    const mine = responses.filter(r => r.url === url);
    const bad = mine.filter(r => ![200, 206].includes(r.status) || r.acao !== '*');
    check(mine.length > 0 && bad.length === 0,
      `${ext}: ${mine.length} media responses, all 200/206 with Access-Control-Allow-Origin: *`,
      bad.map(r => `${r.status} acao=${r.acao}`).join('; '));
  }
} catch (e) {
  check(false, 'test ran', e.stack || String(e));
} finally {
  if (context) await context.close().catch(() => {});
  server.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
console.log(`browser-av: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
