"""Source a hostile submission uses to reach kernel keyrings through raw system calls (shared by
test_hostile.py and test_sandbox_isolation.py; @KEYS@ is replaced by a marker of the run).

_store() keeps a key, readable by anyone, in every keyring a test can reach: its session (@s),
user (@u) and user-session (@us) keyrings, its uid's persistent keyring, and a keyring of its own
linked into @u; it returns the names of those that took one. _found() looks for such keys in each
of them and in /proc/keys (which lists every key the caller may view), and returns what it saw.
"""

import textwrap

KEYRINGS = textwrap.dedent("""\
    import ctypes as _ctypes, platform as _platform
    _libc = _ctypes.CDLL(None, use_errno=True)
    _libc.syscall.restype = _ctypes.c_long
    _ADD_KEY, _KEYCTL = {"x86_64": (248, 250), "aarch64": (217, 219), "riscv64": (217, 219)}[_platform.machine()]
    def _keyctl(op, *args):
        r = _libc.syscall(_ctypes.c_long(_KEYCTL), _ctypes.c_long(op),
                          *[_ctypes.c_long(a) if isinstance(a, int) else a for a in args])
        return r if r >= 0 else -_ctypes.get_errno()
    def _add_key(kind, name, payload, ring):
        r = _libc.syscall(_ctypes.c_long(_ADD_KEY), kind, name, payload,
                          _ctypes.c_long(len(payload or b"")), _ctypes.c_long(ring))
        return r if r >= 0 else -_ctypes.get_errno()
    def _rings():  # session, user, user-session, persistent, and the named keyring in @u
        rings = {"s": -3, "u": -4, "us": -5, "persistent": _keyctl(22, -1, -3),
                 "named": _keyctl(10, -4, b"keyring", b"@KEYS@ring", 0)}
        return {n: r for n, r in rings.items() if r > 0 or n in ("s", "u", "us")}
    def _found():
        seen = [n for n, r in _rings().items() if _keyctl(10, r, b"user", b"@KEYS@" + n.encode(), 0) > 0]
        try:
            with open("/proc/keys") as f:
                seen += [ln.split()[8] for ln in f if "@KEYS@" in ln]
        except OSError:
            pass
        return seen
    def _store():
        named = _add_key(b"keyring", b"@KEYS@ring", None, -3)
        if named > 0:
            _keyctl(5, named, 0x3f3f3f3f)  # KEYCTL_SETPERM: anyone may view, read, write, link
            _keyctl(8, named, -4)          # KEYCTL_LINK into @u
        stored = []
        for n, r in _rings().items():  # made in @s, which it possesses, to open it to all; then linked
            key = _add_key(b"user", b"@KEYS@" + n.encode(), b"the answers", -3)
            if key > 0 and _keyctl(5, key, 0x3f3f3f3f) == 0 and (r == -3 or _keyctl(8, key, r) == 0):
                stored.append(n)
        return sorted(stored)
    """)
