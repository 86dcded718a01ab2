#!/usr/bin/env python3
"""The Python redis client (Debian python3-redis) against two tricache nodes.

Usage: redis_py_client.py PORT_A PORT_B. Writes through one node, reads
through the other, with and without pipelines; exits non-zero on the first
mismatch. Every read is linearizable, so what one node acknowledged the other
returns at once.
"""
import sys

import redis


def check(what, got, want):
    if got != want:
        print(f"FAIL {what}: got {got!r}, want {want!r}")
        sys.exit(1)


def main():
    a = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]), socket_timeout=10)
    b = redis.Redis(host="127.0.0.1", port=int(sys.argv[2]), socket_timeout=10)
    check("ping", a.ping(), True)
    check("set", a.set("py:k", b"\x00binary\xff"), True)
    check("get other node", b.get("py:k"), b"\x00binary\xff")
    check("set nx taken", b.set("py:k", "x", nx=True), None)
    check("set xx", b.set("py:k", "y", xx=True), True)
    check("getdel", a.getdel("py:k"), b"y")
    check("exists after getdel", b.exists("py:k"), 0)
    check("incrby", a.incrby("py:n", 10), 10)
    check("decr", b.decr("py:n"), 9)
    try:
        a.incr("py:n", "notanumber")
        check("incr with a bad amount raises", True, False)
    except redis.ResponseError as e:
        check("error text", str(e), "value is not an integer or out of range")

    # A pipeline of 500 commands on node A (non-transactional: tricache has
    # no MULTI), then one on node B reading them all back.
    pa = a.pipeline(transaction=False)
    for i in range(250):
        pa.set(f"py:p{i}", str(i))
        pa.incr("py:counter")
    results = pa.execute()
    check("pipeline replies", len(results), 500)
    check("pipeline sets", all(r is True for r in results[0::2]), True)
    check("pipeline incr order", results[1::2], list(range(1, 251)))
    pb = b.pipeline(transaction=False)
    for i in range(250):
        pb.get(f"py:p{i}")
    check("pipeline reads on the other node", pb.execute(), [str(i).encode() for i in range(250)])
    check("mget", b.mget(["py:p1", "py:none", "py:p2"]), [b"1", None, b"2"])
    # A transactional pipeline (MULTI ... EXEC) is refused as a whole, and none
    # of its commands is applied.
    tx = a.pipeline(transaction=True)
    tx.set("py:tx", "1")
    tx.incr("py:counter")
    try:
        tx.execute()
        check("MULTI/EXEC pipeline raises", True, False)
    except redis.ResponseError as e:
        check("EXECABORT", str(e).startswith("Transaction discarded") or "EXECABORT" in str(e), True)
    check("nothing of the refused transaction", (b.get("py:tx"), b.get("py:counter")), (None, b"250"))
    check("mset", a.mset({"py:m1": "1", "py:m2": "2"}), True)
    check("msetnx refused", b.msetnx({"py:m2": "x", "py:m3": "3"}), False)
    check("msetnx untouched", a.get("py:m3"), None)
    check("dbsize", b.dbsize(), 250 + 1 + 1 + 2)  # p*, counter, n, m1, m2
    keys = set(b.scan_iter(match="py:m*", count=3))
    check("scan_iter", keys, {b"py:m1", b"py:m2"})
    check("append", a.append("py:m1", "23"), 3)
    check("strlen", b.strlen("py:m1"), 3)
    check("type", b.type("py:m1"), b"string")
    check("delete", a.delete("py:m1", "py:m2", "py:none"), 2)
    check("client name", a.client_setname("tester"), True)
    check("client getname", a.client_getname() in ("tester", b"tester"), True)  # decoded by some versions
    info = b.info()
    check("info maxmemory_policy", info.get("maxmemory_policy"), "allkeys-lru")
    check("info epoch present", "tricache_epoch" in info, True)
    check("config get", a.config_get("maxmemory-policy"), {"maxmemory-policy": "allkeys-lru"})
    check("flushall", b.flushall(), True)
    check("empty", a.dbsize(), 0)
    print("python redis client: all checks passed")


if __name__ == "__main__":
    main()
