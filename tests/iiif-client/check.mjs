// Reads manifests the end-to-end tests produce and checks each with real
// IIIF client libraries: @iiif/parser (normalize, which also upgrades a
// Presentation 2.1 manifest to 3, and the strict 3.0 upgrade, whose
// warnings are reported) and manifesto.js (the library Mirador and the
// Universal Viewer use: its canvases, their sizes and image services), and
// validates Presentation 3 manifests against the IIIF Presentation 3 JSON
// schema (IIIF/presentation-validator's schema/iiif_3_0.json) when a path
// to it is given.
//
// Usage: node check.mjs [SCHEMA_JSON]
// Input: one JSON document per line on stdin; output: one JSON line per
// input, {"ok":bool,"errors":[...],"canvases":N,"services":N,"schema":bool}.
// Runs until stdin closes (the e2e suite keeps one process for the session).
import fs from 'node:fs';
import readline from 'node:readline';
import { normalize } from '@iiif/parser';
import { presentation3StrictUpgrade } from '@iiif/parser/strict';
import manifesto from 'manifesto.js';
import Ajv from 'ajv';

const schemaPath = process.argv[2];
let validate = null;
if (schemaPath && fs.existsSync(schemaPath)) {
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, logger: false });
  validate = ajv.compile(JSON.parse(fs.readFileSync(schemaPath, 'utf8')));
}

function check(doc) {
  const errors = [];
  const is3 = [].concat(doc['@context']).includes('http://iiif.io/api/presentation/3/context.json');
  // @iiif/parser: the normalised entities hold every canvas
  // (each library gets its own copy: they annotate what they read)
  if (is3 && validate && !validate(structuredClone(doc)))
    for (const e of validate.errors.slice(0, 10)) errors.push(`schema: ${e.instancePath} ${e.message}`);
  const n = normalize(structuredClone(doc));
  const parserCanvases = Object.keys(n.entities.Canvas).length;
  if (!n.resource || n.resource.type !== 'Manifest') errors.push('@iiif/parser: not read as a Manifest');
  if (is3) {
    const state = { warnings: [] };
    presentation3StrictUpgrade(structuredClone(doc), state);
    for (const w of state.warnings) errors.push('@iiif/parser strict: ' + w);
  }
  // manifesto.js: canvases, their size, the image service of each body
  const m = manifesto.parseManifest(structuredClone(doc));
  const canvases = m.getSequences()[0].getCanvases();
  if (canvases.length !== parserCanvases)
    errors.push(`manifesto.js sees ${canvases.length} canvases, @iiif/parser ${parserCanvases}`);
  let services = 0;
  for (const c of canvases) {
    if (!(c.getWidth() > 0 && c.getHeight() > 0) && !(c.getDuration() > 0))
      errors.push(`canvas ${c.id}: no size`);
    const images = c.getContent().length ? c.getContent() : c.getImages();
    if (images.length !== 1) { errors.push(`canvas ${c.id}: ${images.length} painting annotations`); continue; }
    const body = c.getContent().length ? images[0].getBody()[0] : images[0].getResource();
    if (!body || !body.id) { errors.push(`canvas ${c.id}: no body`); continue; }
    const svc = body.getServices ? body.getServices() : [];
    services += svc.length;
    // image services, and a restricted body's IIIF Auth 2.0 probe service
    for (const s of svc) {
      const type = s.__jsonld && (s.__jsonld.type || s.__jsonld['@type']);
      const ok = type === 'AuthProbeService2' ? /\/auth\/v2\/probe\//.test(s.id) : /\/iiif-img\//.test(s.id);
      if (!s.id || !ok) errors.push(`canvas ${c.id}: service ${s.id}`);
    }
  }
  const schema = Boolean(is3 && validate);
  return { ok: errors.length === 0, errors, canvases: canvases.length, services, schema };
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', (line) => {
  let out;
  try {
    out = check(JSON.parse(line));
  } catch (e) {
    out = { ok: false, errors: ['exception: ' + (e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e)], canvases: 0, services: 0, schema: false };
  }
  process.stdout.write(JSON.stringify(out) + '\n');
});
