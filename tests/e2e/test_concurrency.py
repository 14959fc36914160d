"""Writers in one space at the same time: each gets its answer, none a 503.
Before the space lock, concurrent creates in a space deadlocked in MariaDB
(an INSERT's foreign-key check takes the space row shared, the image count
then wants it exclusive) and some answered 503 "database busy"."""

import threading
import uuid

from helpers import Api, describe


def run_parallel(fns):
    out = [None] * len(fns)
    barrier = threading.Barrier(len(fns))

    def go(i):
        barrier.wait()
        out[i] = fns[i]()

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(fns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return out


def session(customer, base):
    return Api(base, auth=(customer.key, customer.secret))


def test_parallel_creates_in_one_space(space, base):
    c = space.customer
    ids = ["p-%s" % uuid.uuid4().hex[:10] for _ in range(40)]
    sessions = [session(c, base) for _ in ids]
    rs = run_parallel([lambda s=s, a=a: s.put(space.image(a), json={"mediaType": "image/jpeg", "string1": "x"})
                       for s, a in zip(sessions, ids)])
    assert [r.status_code for r in rs] == [201] * len(ids), [describe(r) for r in rs if r.status_code != 201][:3]
    r = c.api.get(space.path)
    assert r.json()["approximateNumberOfImages"] == len(ids), r.json()
    # and deletes mixed with creates and patches
    more = ["q-%s" % uuid.uuid4().hex[:10] for _ in range(20)]
    fns = [lambda s=s, a=a: s.delete(space.image(a)) for s, a in zip(sessions, ids[:20])]
    fns += [lambda s=s, a=a: s.put(space.image(a), json={"mediaType": "image/jpeg"}) for s, a in zip(sessions[20:], more)]
    fns += [lambda s=s, a=a: s.patch(space.image(a), json={"string2": "y"}) for s, a in zip(sessions[:20], ids[20:])]
    rs = run_parallel(fns)
    assert all(r.status_code in (200, 201, 204) for r in rs), [describe(r) for r in rs if r.status_code >= 300][:3]
    r = c.api.get(space.path)
    assert r.json()["approximateNumberOfImages"] == len(ids), r.json()
    for s in sessions:
        s.close()


def test_parallel_batches_across_spaces_in_both_orders(customer, base, origin):
    """Batches naming the same spaces in opposite orders lock them in one
    order, so they queue instead of deadlocking."""
    from helpers import create_space
    from origin import jpeg
    s1, s2 = create_space(customer), create_space(customer)
    url = origin.add(jpeg(16, 16))

    def batch(first, second):
        members = []
        for sp in (first, second, first, second):
            members.append({"id": "b-%s" % uuid.uuid4().hex[:10], "space": sp.id, "mediaType": "image/jpeg",
                            "origin": url})
        return {"@type": "Collection", "member": members}

    sessions = [session(customer, base) for _ in range(16)]
    rs = run_parallel([lambda s=s, i=i: s.post(customer.path + "/queue",
                                               json=batch(s1, s2) if i % 2 else batch(s2, s1))
                       for i, s in enumerate(sessions)])
    assert all(r.status_code == 201 for r in rs), [describe(r) for r in rs if r.status_code != 201][:3]
    for sp in (s1, s2):
        assert customer.api.get(sp.path).json()["approximateNumberOfImages"] == 32
    for s in sessions:
        s.close()
