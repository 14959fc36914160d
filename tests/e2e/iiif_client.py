"""Real IIIF client libraries over the manifests the tests produce:
tests/iiif-client/check.mjs (node: @iiif/parser, manifesto.js, and ajv with
the IIIF Presentation 3 JSON schema), one process for the whole session.

The schema is schema/iiif_3_0.json of the public IIIF/presentation-validator
repository. It is never part of this repository, and the tests cannot
download it (only the npm registry is reachable, and no npm package ships
it): like the image validator, the workspace holds an unpacked copy beside
the repository, in ../shared/tools/iiif-presentation-validator/; the
environment variable DLCS_IIIF_P3_SCHEMA names another file. It is copied
into the stack's state directory for the run. Without it, manifests are
still read by both libraries, and the session says once that the schema
validation was skipped."""

import json
import os
import shutil
import subprocess
import sys
import warnings

SCHEMA_NAME = "iiif_3_0.json"


def find_schema(repo):
    candidates = [
        os.environ.get("DLCS_IIIF_P3_SCHEMA"),
        os.path.join(repo, "..", "shared", "tools", "iiif-presentation-validator", "schema", SCHEMA_NAME),
        os.path.join(repo, "var", SCHEMA_NAME),
    ]
    for c in candidates:
        if c and os.path.isfile(c):
            return os.path.abspath(c)
    return None


class IiifClient:
    def __init__(self, repo, var):
        self.dir = os.path.join(repo, "tests", "iiif-client")
        if not os.path.isdir(os.path.join(self.dir, "node_modules", "@iiif", "parser")):
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=self.dir, check=True,
                           stdout=subprocess.DEVNULL)
        source = find_schema(repo)
        self.schema = None
        if source:
            self.schema = os.path.join(var, SCHEMA_NAME)
            if os.path.abspath(source) != os.path.abspath(self.schema):
                shutil.copyfile(source, self.schema)
        else:
            msg = ("IIIF Presentation 3 JSON schema (IIIF/presentation-validator %s) is missing: "
                   "not in ../shared/tools/iiif-presentation-validator/schema/ nor $DLCS_IIIF_P3_SCHEMA; "
                   "manifests are parsed by @iiif/parser and manifesto.js but NOT validated against it"
                   % SCHEMA_NAME)
            warnings.warn(msg)
            sys.stderr.write("\n[iiif-client] " + msg + "\n")
        args = ["node", "check.mjs"] + ([self.schema] if self.schema else [])
        self.proc = subprocess.Popen(args, cwd=self.dir, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)
        self.checked = 0

    def check(self, manifest):
        """The libraries' verdict on a manifest (a dict); fails the test on
        any error they report. Returns {"canvases", "services", "schema"}."""
        self.proc.stdin.write(json.dumps(manifest) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, "tests/iiif-client/check.mjs died"
        out = json.loads(line)
        assert out["ok"], "IIIF clients on %s: %s" % (manifest.get("id") or manifest.get("@id"),
                                                      out["errors"])
        if self.schema and "items" in manifest:
            assert out["schema"], "not validated against the schema"
        self.checked += 1
        return out

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
