"""dlcs-admin ingest (issue 12 item 2): a folder of images by direct upload
and a list of URLs through the queue, in batches, a plain line per batch
when not on a terminal, and resumable: killed with SIGKILL in the middle, a
rerun completes the rest and every image is registered exactly once
(counted by the API's request lines, and by the origin's fetches)."""

import os
import re
import signal
import subprocess
import time

from helpers import admin_command, base_url, describe
from origin import encode, get_asset, quadrants, wait_batch


def admin_exe(dlcs_var):
    for pool in ("runner", "api"):
        with open(os.path.join(dlcs_var, "run", pool + ".pid")) as f:
            for pid in f.read().split():
                try:
                    path = os.readlink("/proc/%s/exe" % pid).replace(" (deleted)", "")
                except OSError:
                    continue
                cand = os.path.join(os.path.dirname(path), "dlcs-admin")
                if os.access(cand, os.X_OK):
                    return cand
    raise AssertionError("no dlcs-admin beside the stack's programs")


def ingest_cmd(dlcs_var, space, *args):
    env = dict(os.environ, DLCS_CONFIG=os.path.join(dlcs_var, "dlcs.conf"),
               DLCS_API_CREDENTIALS="%s:%s" % (space.customer.key, space.customer.secret))
    cmd = [admin_exe(dlcs_var), "ingest", "%d/%d" % (space.customer.id, space.id), "--api", base_url()]
    return cmd + list(args), env


def registered(dlcs_var, space):
    """{asset id: how many PUTs of it the API answered 200/201}."""
    pat = re.compile(r" PUT /customers/%d/spaces/%d/images/(\S+) (20[012]) " % (space.customer.id, space.id))
    counts = {}
    with open(os.path.join(dlcs_var, "log", "api.log"), errors="replace") as f:
        for line in f:
            m = pat.search(line)
            if m:
                counts[m.group(1)] = counts.get(m.group(1), 0) + 1
    return counts


def total_items(space):
    r = space.customer.api.get(space.path + "/images", params={"pageSize": 1})
    assert r.status_code == 200, describe(r)
    return r.json()["totalItems"]


def test_ingest_help_touches_nothing(dlcs_var):
    rc, out = admin_command(dlcs_var, "ingest", "--help")
    assert rc == 0, out
    for word in ("--folder", "--csv", "--urls", "--batch", "dlcs-ingest"):
        assert word in out, out
    rc, out = admin_command(dlcs_var, "ingest", "1/1")
    assert rc == 2 and "usage" in out, out


def test_folder_of_300_survives_kill_9(space, dlcs_var, tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(300):
        img = quadrants(8 + i % 5, 6 + i % 3)
        img.putpixel((0, 0), (i % 256, i // 256, 7))
        (folder / ("img %03d.png" % i if i == 7 else "img%03d.png" % i)).write_bytes(encode(img, "PNG"))
    cmd, env = ingest_cmd(dlcs_var, space, "--folder", str(folder), "--batch", "25")
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = []
    deadline = time.time() + 300
    while time.time() < deadline:
        line = p.stdout.readline()
        if not line:
            break
        seen.append(line)
        if line.startswith("batch 4/12"):
            time.sleep(0.3)  # into batch 5
            break
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    p.stdout.close()
    assert any(s.startswith("batch 4/12: 25 registered, 0 already there, 0 refused (100/300)") for s in seen), seen
    state = str(folder) + ".dlcs-ingest"
    done = [l for l in open(state).read().splitlines() if l.startswith("done ")]
    assert 4 <= len(done) < 12, done
    before = total_items(space)
    assert 100 <= before < 300, before

    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    assert p.returncode == 0, p.stdout
    lines = p.stdout.splitlines()
    assert len(lines) == 12 and lines[-1].endswith("(300/300)"), p.stdout
    assert lines[0].startswith("batch 1/12: 0 registered, 25 already there"), p.stdout
    assert total_items(space) == 300
    counts = registered(dlcs_var, space)
    assert len(counts) == 300, sorted(counts)[:5]
    twice = {k: v for k, v in counts.items() if v != 1}
    assert not twice, twice
    # the file whose name is no valid id got a derived one, and its pixels
    odd = [k for k in counts if k.startswith("img_007.png-")]
    assert len(odd) == 1, sorted(counts)[:10]
    assert get_asset(space, odd[0])["width"] == 8 + 7 % 5
    assert get_asset(space, "img299.png")["width"] == 8 + 299 % 5

    # a third run registers nothing
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    assert p.returncode == 0, p.stdout
    assert registered(dlcs_var, space) == counts


def test_urls_through_the_queue_fetched_once(space, dlcs_var, tmp_path, origin):
    urls = [origin.add(encode(quadrants(16, 12), "JPEG"), "image/jpeg") for _ in range(30)]
    lst = tmp_path / "urls.txt"
    lst.write_text("# origins\n" + "\n".join(urls) + "\n\n")
    cmd, env = ingest_cmd(dlcs_var, space, "--urls", str(lst), "--batch", "10", "--progress")
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "30/30 assets, batch 3/3" in p.stderr and "[" in p.stderr, p.stderr
    deadline = time.time() + 60
    while total_items(space) < 30 or any(origin.count(u) == 0 for u in urls):
        assert time.time() < deadline, (total_items(space), origin.counts(urls))
        time.sleep(0.5)
    # a rerun after the state file is lost still registers nothing twice
    os.unlink(str(lst) + ".dlcs-ingest")
    p = subprocess.run(cmd[:-1] + ["--no-progress"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stdout
    assert "batch 3/3: 0 registered, 10 already there" in p.stdout, p.stdout
    time.sleep(2)
    assert [origin.count(u) for u in urls] == [1] * 30
    assert total_items(space) == 30
