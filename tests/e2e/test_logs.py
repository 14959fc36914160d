"""The request line of the API's log (README "Logs"): nginx's $request_id,
which the test nginx also writes in its access log, the query string, the
client address and the authenticated customer; control characters from the
request never reach the log."""

import os
import re
import time
import uuid

from helpers import describe


def read(path):
    with open(path, errors="replace") as f:
        return f.read()


def wait_line(path, needle, timeout=10.0):
    """The first line of the file holding needle (nginx buffers its access
    log for up to 2 s)."""
    end = time.time() + timeout
    while True:
        for line in read(path).splitlines():
            if needle in line:
                return line
        assert time.time() < end, "no line with %r in %s" % (needle, path)
        time.sleep(0.2)


def test_request_line_names_nginx_request_id_query_client_and_customer(admin, dlcs_var):
    mark = uuid.uuid4().hex
    r = admin.get("/customers", params={"probe": mark, "x": "a b"})
    assert r.status_code == 200, describe(r)
    line = wait_line(os.path.join(dlcs_var, "log", "api.log"), mark)
    m = re.search(r" info ([0-9a-f]{32}) GET /customers\?probe=%s&x=a\+b 200 \d+B [0-9.]+ms "
                  r"client=127\.0\.0\.1 customer=1( |$)" % mark, line)
    assert m, line
    # the same id in nginx's access log, on the same request
    access = wait_line(os.path.join(dlcs_var, "log", "nginx-access.log"), m.group(1))
    assert mark in access and '"GET /customers?probe=' in access, access


def test_anonymous_and_hostile_requests_log_one_clean_line(anon, dlcs_var):
    mark = uuid.uuid4().hex
    r = anon.get("/customers/1/spaces?%s=%%0d%%0aforged%%00line%%1b[31m" % mark)
    assert r.status_code == 400, describe(r)  # a NUL in the query
    line = wait_line(os.path.join(dlcs_var, "log", "api.log"), mark)
    assert " 400 " in line and "customer=0" in line, line
    # the query stays as sent (percent-encoded), so nothing can start a new line
    assert "=%0D%0Aforged%00line%1B%5B31m " in line, line
    assert not any(ord(c) < 0x20 for c in line), repr(line)
    # a forged REQUEST_ID cannot come from a client: nginx sets it
    r = anon.get("/?" + mark + "2", headers={"Request-Id": "forged", "X-Request-Id": "forged"})
    line = wait_line(os.path.join(dlcs_var, "log", "api.log"), mark + "2")
    assert "forged" not in line and re.search(r" info [0-9a-f]{32} GET /\?", line), line
