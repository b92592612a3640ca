"""Test helpers: IDX bytes built by hand with `struct` (independently of mnist_utils),
`write_idx` for synthetic data sets, tiny MNIST-like files, and a scriptable HTTP server."""

import gzip
import hashlib
import http.server
import struct
import threading
from pathlib import Path

import numpy as np

# IDX type code -> struct format character of one big-endian element, and NumPy type.
STRUCT_CODES = {0x08: "B", 0x09: "b", 0x0B: "h", 0x0C: "i", 0x0D: "f", 0x0E: "d"}
NUMPY_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.int16, 0x0C: np.int32,
               0x0D: np.float32, 0x0E: np.float64}

FILE_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
              "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
GZ_NAMES = tuple(name + ".gz" for name in FILE_NAMES)


def idx_bytes(type_code, shape, values):
    """The IDX encoding of `values` (a flat list) with the given type and shape."""
    header = struct.pack(">BBBB", 0, 0, type_code, len(shape))
    header += struct.pack(f">{len(shape)}I", *shape)
    return header + struct.pack(f">{len(values)}{STRUCT_CODES[type_code]}", *values)


def write_idx(path, array):
    """Write `array` (of a NUMPY_TYPES type) as an IDX file, gzip-compressed if `path` ends with .gz."""
    array = np.asarray(array)
    [type_code] = [code for code, numpy_type in NUMPY_TYPES.items() if array.dtype == numpy_type]
    data = struct.pack(f">BBBB{array.ndim}I", 0, 0, type_code, array.ndim, *array.shape)
    data += array.astype(array.dtype.newbyteorder(">")).tobytes()
    Path(path).write_bytes(gzip.compress(data, mtime=0) if str(path).endswith(".gz") else data)


def mnist_like_idx(n_train=500, n_test=100, seed=0):
    """The four MNIST files in miniature, decompressed, keyed by standard name."""
    rng = np.random.default_rng(seed)
    files = {}
    for prefix, count in (("train", n_train), ("t10k", n_test)):
        pixels = rng.integers(0, 256, size=count * 28 * 28).tolist()
        labels = rng.integers(0, 10, size=count).tolist()
        files[f"{prefix}-images-idx3-ubyte"] = idx_bytes(0x08, (count, 28, 28), pixels)
        files[f"{prefix}-labels-idx1-ubyte"] = idx_bytes(0x08, (count,), labels)
    return files


def mnist_like_gz(n_train=500, n_test=100, seed=0):
    """The same files gzip-compressed, keyed by .gz name, as a mirror serves them."""
    return {name + ".gz": gzip.compress(data, mtime=0)
            for name, data in mnist_like_idx(n_train, n_test, seed).items()}


def sha256(data):
    return hashlib.sha256(data).hexdigest()


class ScriptedServer:
    """An HTTP server on 127.0.0.1 whose every GET runs `respond(handler, stop)`.

    `respond` writes the status line, headers and body itself, so it can send a
    short body, drop the connection or stall; `stop` is a threading.Event set
    when the server shuts down, for stalling handlers to wait on.
    """

    def __init__(self, respond):
        self.stop = threading.Event()
        self.requests = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                respond(self, server.stop)

            def log_message(self, *args):
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/"
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
