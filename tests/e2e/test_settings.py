"""The configuration file and its table of settings (README "Configuration"):
every program -- dlcs-api, dlcs-image, dlcs-runner, dlcs-admin -- refuses at
start a file with an unknown key or a value its type does not take, naming
the line and the key, before it touches the database or forks a worker;
the files the stack writes load; `dlcs-admin config` prints the effective
settings with secrets masked; `.stack/up` stops on a refused file before it
starts anything.

The programs are the stack's own (next to its running pools); each is run
on a copy of the stack's configuration with one line added."""

import os
import re
import shutil
import subprocess
import tempfile

import pytest

POOLS = ("api", "image", "runner")
PROGRAMS = ("dlcs-api", "dlcs-image", "dlcs-runner", "dlcs-admin")


@pytest.fixture(scope="module")
def build_dir(dlcs_var):
    """The directory of the stack's programs (that of its running pools)."""
    for pool in POOLS:
        try:
            with open(os.path.join(dlcs_var, "run", pool + ".pid")) as f:
                pid = int(f.read().split()[0])
            exe = os.readlink("/proc/%d/exe" % pid)
        except (OSError, ValueError, IndexError):
            continue
        exe = exe[:-len(" (deleted)")] if exe.endswith(" (deleted)") else exe
        d = os.path.dirname(exe)
        if all(os.access(os.path.join(d, p), os.X_OK) for p in PROGRAMS):
            return d
    pytest.fail("no stack programs found next to run/{api,image,runner}.pid")


def run(exe, args, conf, timeout=60):
    """exe with args on the configuration file conf (and no $DLCS_CONFIG);
    (exit status, stdout+stderr)."""
    env = {k: v for k, v in os.environ.items() if k != "DLCS_CONFIG"}
    p = subprocess.run([exe, "-c", conf] + args, env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def program_args(name):
    """What each program is started with: a pool of one worker; dlcs-admin
    a command that needs the database."""
    return ["migrate"] if name == "dlcs-admin" else ["-w", "1"]


@pytest.fixture
def conf_with(dlcs_var):
    """conf_with(extra) -> (path, line): the stack's configuration with the
    line extra appended, and that line's number."""
    made = []

    def make(extra):
        with open(os.path.join(dlcs_var, "dlcs.conf"), "rb") as f:
            text = f.read()
        if not text.endswith(b"\n"):
            text += b"\n"
        fd, path = tempfile.mkstemp(suffix=".conf")
        with os.fdopen(fd, "wb") as f:
            f.write(text + extra + b"\n")
        made.append(path)
        return path, text.count(b"\n") + 1

    yield make
    for p in made:
        os.unlink(p)


@pytest.mark.parametrize("program", PROGRAMS)
def test_an_unknown_key_stops_every_program_naming_it(build_dir, conf_with, program):
    conf, line = conf_with(b"runner_thread = 2")  # a typo of runner_threads
    rc, out = run(os.path.join(build_dir, program), program_args(program), conf)
    assert rc == 78, out
    assert "%s: line %d: unknown setting 'runner_thread'" % (conf, line) in out, out
    # nothing else ran: no worker started, no migration was looked at
    assert "supervisor:" not in out and "migrat" not in out, out


@pytest.mark.parametrize("program", PROGRAMS)
@pytest.mark.parametrize("line_text,named", [
    (b"runner_threads = two", "runner_threads: 'two' is not a whole number"),
    (b"jpeg_quality = 101", "jpeg_quality: 101 is out of range (1..100)"),
    (b"image_memory_limit = 4 GB", "image_memory_limit: '4 GB' is not a size in bytes"),
    (b"base_url = https://iiif.example.org/", "base_url: 'https://iiif.example.org/' is not an"),
    (b"origin_allow_networks = 127.0.0.1/33", "origin_allow_networks: '127.0.0.1/33' has a prefix "
                                              "length above 32"),
    (b"storage_root = /srv/\x1b[2Jx", "storage_root: the value holds a control character"),
])
def test_a_bad_value_stops_every_program_naming_it(build_dir, conf_with, program, line_text, named):
    conf, line = conf_with(line_text)
    rc, out = run(os.path.join(build_dir, program), program_args(program), conf)
    assert rc == 78, out
    assert "%s: line %d: %s" % (conf, line, named) in out, out
    assert "\x1b" not in out, repr(out)


def test_the_stack_configuration_loads_and_is_shown(build_dir, dlcs_var, stack_config):
    conf = os.path.join(dlcs_var, "dlcs.conf")
    rc, out = run(os.path.join(build_dir, "dlcs-admin"), ["config"], conf)
    assert rc == 0, out
    shown = {}
    for text in out.splitlines():
        m = re.match(r"^([a-z0-9_]+) = (.*?)    # (default|line \d+): (.+)$", text)
        assert m, text
        shown[m.group(1)] = (m.group(2), m.group(3))
    # the file's values, with their lines
    assert shown["storage_root"][0] == stack_config["storage_root"]
    assert shown["storage_root"][1].startswith("line ")
    assert shown["runner_lease_seconds"] == ("5", shown["runner_lease_seconds"][1])
    # the last of two lines wins (the test stack appends its own allow list)
    assert shown["origin_allow_networks"][0] == "127.0.0.1/32"
    # defaults, and those made of another setting
    assert shown["runner_threads"] == ("2", "default")
    assert shown["image_max_area"] == ("16777216", "default")
    assert shown["data_generation_file"] == (stack_config["storage_root"] + "/.data-generation",
                                             "default")
    # the secret is masked, and appears nowhere
    assert shown["api_key_salt"][0] == "********"
    assert stack_config["api_key_salt"] not in out


def test_a_secret_is_never_printed(build_dir, conf_with):
    conf, _ = conf_with(b"db_password = s3cr#t-Pa55")
    rc, out = run(os.path.join(build_dir, "dlcs-admin"), ["config"], conf)
    assert rc == 0, out
    assert "db_password = ********    # line" in out, out
    assert "s3cr" not in out


def test_the_configuration_the_stack_writes_loads(build_dir, dlcs_repo):
    """write_config and update_config of .stack/lib.sh, in a fresh directory,
    give a file every program takes (only known keys, values in range)."""
    d = tempfile.mkdtemp(prefix="dlcs-settings-")
    try:
        env = dict(os.environ, DLCS_VAR=d, DLCS_PORT="1")
        script = 'source "$1/.stack/lib.sh"; stack_env; make_dirs; write_config; update_config'
        p = subprocess.run(["bash", "-c", script, "bash", dlcs_repo], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        assert p.returncode == 0, p.stdout
        conf = os.path.join(d, "dlcs.conf")
        with open(conf) as f:
            text = f.read()
        for key in ("db_socket", "storage_root", "api_key_salt", "origin_allow_networks",
                    "nginx_custom_headers", "nginx_pid_file"):
            assert re.search(r"^%s = " % key, text, re.M), text
        rc, out = run(os.path.join(build_dir, "dlcs-admin"), ["config"], conf)
        assert rc == 0, out
        assert "storage_root = %s/storage    # line " % d in out, out
    finally:
        shutil.rmtree(d)


def test_stack_up_stops_on_a_refused_configuration(build_dir, dlcs_repo):
    """.stack/up names the line and starts nothing (no MariaDB, no pool)."""
    d = tempfile.mkdtemp(prefix="dlcs-settings-")
    try:
        with open(os.path.join(d, "dlcs.conf"), "w") as f:
            f.write("# a hand-edited file\nstorage_root = %s/storage\nimage_cache_mb = 64\n" % d)
        env = dict(os.environ, DLCS_VAR=d, DLCS_PORT="1", DLCS_BUILD=build_dir, DLCS_SKIP_DEPS="1",
                   DLCS_SKIP_BUILD="1")
        env.pop("DLCS_CONFIG", None)
        p = subprocess.run([os.path.join(dlcs_repo, ".stack", "up")], env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        out = p.stdout.decode("utf-8", "replace")
        assert p.returncode != 0, out
        assert "line 3: unknown setting 'image_cache_mb'" in out, out
        assert "the programs refuse %s/dlcs.conf (exit 78)" % d in out, out
        assert not os.path.exists(os.path.join(d, "run", "mysqld.pid")), out
        assert not os.path.exists(os.path.join(d, "mysql")), out
    finally:
        # whatever it might have started, stopped by its own script
        subprocess.run([os.path.join(dlcs_repo, ".stack", "down")], env=dict(os.environ, DLCS_VAR=d),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        shutil.rmtree(d, ignore_errors=True)
