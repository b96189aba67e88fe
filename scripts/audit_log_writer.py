"""Shared by the audit-log generators of `scripts/bench-analyze`: the timestamp format and a
buffered writer of JSON lines that counts what it wrote."""
import json


def ts(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LineWriter:
    """Writes one compact JSON value per line to PATH, 4,096 lines at a time."""

    def __init__(self, path):
        self.f = open(path, "w")
        self.buf = []
        self.written = 0

    def line(self, value):
        text = (value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))) + "\n"
        self.buf.append(text)
        self.written += len(text)
        if len(self.buf) >= 4096:
            self.flush()

    def flush(self):
        self.f.write("".join(self.buf))
        self.buf = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.flush()
        self.f.close()
