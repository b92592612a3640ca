"""Read the MNIST handwritten digits (or Fashion-MNIST) into NumPy arrays.

MNIST is four files in the IDX format: two zero bytes, a byte naming the element type, a byte
giving the number of dimensions, each dimension's size as a big-endian 32-bit integer, then the
elements, big-endian, in row-major (C) order. Yann LeCun, Corinna Cortes and Christopher Burges
published them (http://yann.lecun.com/exdb/mnist/); the mirrors below serve them gzip-compressed.
Fashion-MNIST (Zalando Research) has the same format and file names. ``load_mnist()`` returns
``(x_train, y_train), (x_test, y_test)``: uint8 images of shape (60000, 28, 28) and (10000, 28, 28),
pixels from 0 (background) to 255 (ink), and uint8 labels 0 to 9 of shape (60000,) and (10000,).
One pin per file, the SHA-256 of its decompressed IDX bytes, is enough: it checks a file whatever
its compression, so a mirror that re-compresses the files and files copied in by hand both pass,
and every download is decompressed and checked against it before it is renamed into place.
From a shell: ``python -m mnist_utils download``, ``verify`` or ``info`` (see ``--help``).
"""

import argparse
import contextlib
import gzip
import hashlib
import math
import os
import sys
import zlib
from collections import namedtuple
from pathlib import Path

import numpy as np
import requests
import urllib3
from tqdm import tqdm

TRAIN_IMAGES, TRAIN_LABELS = "train-images-idx3-ubyte", "train-labels-idx1-ubyte"
TEST_IMAGES, TEST_LABELS = "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"
FILE_NAMES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)  # each served as NAME.gz
DATA_DIR_ENV, MIRROR_ENV = "MNIST_DATA_DIR", "MNIST_MIRROR"  # folder if no data_dir; a mirror tried first
DEFAULT_DATA_DIR, FASHION_SUBFOLDER = "data", "fashion"  # ./data at call time; Fashion-MNIST in data/fashion
DEFAULT_TIMEOUT = (10, 60)  # seconds: to connect to a mirror; the longest wait for more bytes
CHUNK_BYTES = 1024 * 1024  # read and download piece by piece: memory grows with real bytes only
GZIP_MAGIC = b"\x1f\x8b"  # the first two bytes of every gzip file
IDX_PREFIX_BYTES = 4  # 0x00 0x00, type code, number of dimensions
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}  # big-endian

MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",  # PyTorch's copy
    "https://storage.googleapis.com/cvdf-datasets/mnist/",  # CVDF's copy (TensorFlow)
    "http://yann.lecun.com/exdb/mnist/",  # the original host; it has refused downloads at times
)
# The pins: the SHA-256 of each file's decompressed IDX bytes, computed with hashlib from the original files.
# `python -m mnist_utils verify` checks a folder against them; tests/test_real_data.py computes them again
# from the real files (with hashlib and gzip alone) and compares.
MNIST_SHA256 = {
    TRAIN_IMAGES: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    TRAIN_LABELS: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    TEST_IMAGES: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    TEST_LABELS: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
FASHION_MNIST_MIRRORS = (  # the links of Fashion-MNIST's README; plain HTTP is safe with the pins
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
)
# Computed in the same way from the files of Debian's package dataset-fashion-mnist, which holds the original
# bytes; checked in the same way (verify --dataset fashion, tests/test_real_data.py, where the files are present).
FASHION_MNIST_SHA256 = {
    TRAIN_IMAGES: "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    TRAIN_LABELS: "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    TEST_IMAGES: "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    TEST_LABELS: "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
DATASETS = {  # name -> (title, mirrors, pins)
    "mnist": ("MNIST", MNIST_MIRRORS, MNIST_SHA256),
    "fashion": ("Fashion-MNIST", FASHION_MNIST_MIRRORS, FASHION_MNIST_SHA256),
}
CLASS_NAMES = {  # what the labels 0-9 mean
    "mnist": [str(digit) for digit in range(10)],
    "fashion": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
}
# What `verify_mnist` found for one file; status is "ok", "missing", "mismatch" or "damaged".
FileCheck = namedtuple("FileCheck", "name path status detail")


class DownloadError(RuntimeError):
    """No mirror delivered a file; ``attempts`` holds one ``(url, reason)`` per URL tried."""
    def __init__(self, message, attempts):
        super().__init__(message)
        self.attempts = tuple(attempts)


@contextlib.contextmanager
def atomic_write(path):
    """Open a temporary file beside `path` for writing (binary); it replaces `path` only if the block completes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{os.urandom(8).hex()}.part")  # .part: never read as data
    try:
        with open(temporary, "x+b") as file:  # "x": never reuse an existing file
            yield file
            file.flush()
            os.fsync(file.fileno())  # the bytes are on disk before the name points at them
        os.replace(temporary, path)
    except BaseException:  # KeyboardInterrupt too: never leave a partial file behind
        temporary.unlink(missing_ok=True)
        raise


def read_idx(path):
    """Read an IDX file, gzip-compressed or not (told by its first bytes), into a NumPy array of its
    element type (native byte order) and shape. ValueError, naming the file, if it is malformed."""
    path = Path(path)
    with open(path, "rb") as file, _decompressed(file, path) as stream:
        prefix = stream.read(IDX_PREFIX_BYTES)
        if path.suffix == ".gz" and stream is file:
            raise _bad_file(path, f"is named .gz but is not gzip-compressed{_html_hint(prefix)}")
        if len(prefix) < IDX_PREFIX_BYTES:
            raise _bad_file(path, f"has only {len(prefix)} bytes, too few for an IDX file")
        if prefix[:2] != b"\0\0":
            raise _bad_file(path, f"is not an IDX file: it starts with {prefix!r}, not two zero bytes"
                                  f"{_html_hint(prefix)}")
        type_code, n_dimensions = prefix[2], prefix[3]
        if type_code not in IDX_DTYPES:
            known = ", ".join(f"0x{code:02X}" for code in IDX_DTYPES)
            raise _bad_file(path, f"has the unknown IDX type code 0x{type_code:02X} (known: {known})")
        if n_dimensions == 0:
            raise _bad_file(path, "declares 0 dimensions; an IDX file has at least one")
        sizes = stream.read(4 * n_dimensions)
        if len(sizes) < 4 * n_dimensions:
            raise _bad_file(path, f"is truncated inside its header ({n_dimensions} sizes announced)")
        shape, dtype = tuple(map(int, np.frombuffer(sizes, ">u4"))), np.dtype(IDX_DTYPES[type_code])
        expected = math.prod(shape) * dtype.itemsize
        payload = bytearray()  # grows with the bytes read: a header claiming 10**9 items costs nothing
        while len(payload) <= expected and (chunk := stream.read(CHUNK_BYTES)):
            payload += chunk
    if len(payload) != expected:
        problem, found = (("is truncated", f"only {len(payload):,}") if len(payload) < expected
                          else ("has extra bytes at the end", "more"))
        raise _bad_file(path, f"{problem}: its header announces {dtype.name} data of shape {shape}, "
                              f"{expected:,} bytes, but {found} bytes follow it")
    try:
        array = np.frombuffer(payload, dtype=dtype).reshape(shape)
    except ValueError as error:  # e.g. more dimensions than NumPy supports
        raise _bad_file(path, f"has a shape NumPy cannot make, {shape} ({error})") from error
    return array.astype(dtype.newbyteorder("="), copy=False)


def _bad_file(path, problem):
    return ValueError(f"{path} {problem}. Delete it and download it again.")


@contextlib.contextmanager
def _decompressed(file, path):  # `file` from its start, or its decompressed bytes if it is gzip
    file.seek(0)
    is_gzip = file.read(len(GZIP_MAGIC)) == GZIP_MAGIC
    file.seek(0)
    try:
        with gzip.GzipFile(fileobj=file, mode="rb") if is_gzip else contextlib.nullcontext(file) as stream:
            yield stream
    except (gzip.BadGzipFile, zlib.error, EOFError) as error:
        raise _bad_file(path, f"is a damaged gzip file ({error})") from error


def _check(file, path, pinned_sha256):
    """(status, detail) of an open file against its pin: "ok", "damaged" or "mismatch"."""
    start = file.read(IDX_PREFIX_BYTES)
    if path.name.endswith(".gz") and not start.startswith(GZIP_MAGIC):
        return "damaged", f"is not a gzip file{_html_hint(start)}"
    digest = hashlib.sha256()
    try:
        with _decompressed(file, path) as stream:
            while chunk := stream.read(CHUNK_BYTES):
                digest.update(chunk)
    except ValueError as error:
        return "damaged", f"is a damaged gzip file ({error.__cause__})"
    if digest.hexdigest() != pinned_sha256:
        return "mismatch", (f"has the SHA-256 {digest.hexdigest()} when decompressed, not the pinned "
                            f"{pinned_sha256}")
    return "ok", "matches the pinned SHA-256 of the decompressed bytes"


def _html_hint(first_bytes):  # the one test for an HTML page (an error page) in place of a file
    return " (it looks like an HTML page: an error page?)" if first_bytes.lstrip().startswith(b"<") else ""


def resolve_data_dir(data_dir=None, dataset="mnist"):
    """`data_dir` if given, else $MNIST_DATA_DIR, else ./data; for Fashion-MNIST the "fashion" subfolder."""
    _dataset(dataset)
    if data_dir is None:
        data_dir = Path(os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)
        data_dir = data_dir / FASHION_SUBFOLDER if dataset == "fashion" else data_dir
    return Path(data_dir).expanduser().absolute()


def mirror_list(dataset="mnist", mirrors=None):
    """The base URLs to try: `mirrors` if given, else $MNIST_MIRROR (if set), then the defaults."""
    if isinstance(mirrors, str):
        raise TypeError(f"mirrors must be a list of base URLs, not a string: use [{mirrors!r}].")
    if mirrors is None:
        mirrors = [url for url in [os.environ.get(MIRROR_ENV)] if url] + list(_dataset(dataset)[1])
    if not mirrors:
        raise ValueError("mirrors is empty: give at least one base URL.")
    return [url if url.endswith("/") else url + "/" for url in mirrors]


def _dataset(name):
    if name not in DATASETS:
        raise ValueError(f"Unknown dataset {name!r}: choose one of {', '.join(DATASETS)}.")
    return DATASETS[name]


def _existing_file(folder, name):  # the file holding `name` in `folder`, decompressed or .gz, or None
    return next((path for path in (folder / name, folder / f"{name}.gz") if path.is_file()), None)


def _by_hand(folder, dataset):  # how to put the files in place without download_mnist
    option = f" --dataset {dataset}" if dataset != "mnist" else ""
    return (f"put the four files ({', '.join(FILE_NAMES)}; decompressed or .gz) in {folder} or in a folder "
            f"named by {DATA_DIR_ENV},\nfor instance from `python -m mnist_utils download --data-dir DIR"
            f"{option}` run on a computer with internet,\n"
            f"and check them with `python -m mnist_utils verify --data-dir {folder}{option}`.")


class _MirrorFailed(Exception):
    """This mirror did not deliver the right file; try the next one."""


def download_mnist(data_dir=None, dataset="mnist", mirrors=None, timeout=DEFAULT_TIMEOUT):
    """Download the files missing in `data_dir` (see `resolve_data_dir`); present ones, .gz or not, are
    neither fetched nor checked (see `verify_mnist`). Each NAME.gz is tried on the mirrors in order
    (see `mirror_list`) and kept only if its decompressed bytes have the pinned SHA-256. `timeout`:
    (connect, read) seconds. Returns {name: path}; DownloadError, with every URL and why, if all fail."""
    pins, folder = _dataset(dataset)[2], resolve_data_dir(data_dir, dataset)
    urls = mirror_list(dataset, mirrors)
    paths = {name: _existing_file(folder, name) for name in FILE_NAMES}
    with requests.Session() as session:
        for name in [name for name, path in paths.items() if path is None]:
            attempts = []
            for url in [f"{base_url}{name}.gz" for base_url in urls]:
                try:
                    paths[name] = _fetch(session, url, folder / f"{name}.gz", pins[name], timeout)
                    break
                # A wrong file; HTTP, connection and timeout errors (requests), or while streaming (urllib3).
                except (_MirrorFailed, requests.RequestException, urllib3.exceptions.HTTPError) as error:
                    mine = isinstance(error, _MirrorFailed)
                    attempts.append((url, str(error) if mine else f"{type(error).__name__}: {error}"))
            else:
                tried = "".join(f"\n  {url}: {reason}" for url, reason in attempts)
                raise DownloadError(f"Could not download {name}.gz from any mirror:{tried}\nTo go on, set "
                                    f"{MIRROR_ENV} to the base URL of a mirror you can reach (it is tried "
                                    f"first), or\n{_by_hand(folder, dataset)}", attempts)
    return paths


def _fetch(session, url, path, pinned_sha256, timeout):
    """Stream `url` into `path` through atomic_write; keep it if its decompressed SHA-256 is the pin."""
    with atomic_write(path) as file, session.get(url, stream=True, timeout=timeout) as response:
        if response.status_code != 200:
            raise _MirrorFailed(f"HTTP {response.status_code} {response.reason}")
        size = response.headers.get("Content-Length", "")
        with tqdm(total=int(size) if size.isdigit() else None, desc=path.name, unit="B",
                  unit_scale=True, unit_divisor=1024, disable=None, leave=False) as progress:
            # The bytes as sent: a server adding its own Content-Encoding must not decode them.
            for chunk in response.raw.stream(CHUNK_BYTES, decode_content=False):
                file.write(chunk)
                progress.update(len(chunk))
        file.seek(0)
        status, detail = _check(file, path, pinned_sha256)
        if status != "ok":
            raise _MirrorFailed(f"served a file that {detail}")
    return path


def verify_mnist(data_dir=None, dataset="mnist"):
    """Check, offline, the files `load_mnist` would read against the pins: {standard name: FileCheck}."""
    pins, folder, checks = _dataset(dataset)[2], resolve_data_dir(data_dir, dataset), {}
    for name in FILE_NAMES:
        path = _existing_file(folder, name)
        if path is None:
            checks[name] = FileCheck(name, None, "missing", f"neither {name} nor {name}.gz is there")
            continue
        with open(path, "rb") as file:
            checks[name] = FileCheck(name, path, *_check(file, path, pins[name]))
    return checks


def load_mnist(data_dir=None, dataset="mnist", download=True):
    """Load MNIST (or, with dataset="fashion", Fashion-MNIST) as ``(x_train, y_train), (x_test, y_test)``:
    uint8 images (count, 28, 28) and uint8 labels (count,), 60,000 for training and 10,000 for testing.
    Files already in `data_dir` (see `resolve_data_dir`) are used, .gz or decompressed; missing ones
    are downloaded if `download` (see `download_mnist`), else FileNotFoundError says what to do.
    Raises ValueError if a file is malformed or the files do not fit together."""
    folder = resolve_data_dir(data_dir, dataset)
    paths = (download_mnist(folder, dataset) if download
             else {name: _existing_file(folder, name) for name in FILE_NAMES})
    missing = [f"{name}[.gz]" for name, path in paths.items() if path is None]
    if missing:
        raise FileNotFoundError(f"{_dataset(dataset)[0]} files missing in {folder}: {', '.join(missing)}."
                                f"\nCall load_mnist with download=True, or {_by_hand(folder, dataset)}")
    arrays = {name: read_idx(path) for name, path in paths.items()}
    for name, array in arrays.items():
        ndim, layout = (3, "(count, height, width)") if "images" in name else (1, "(count,)")
        if array.ndim != ndim or array.dtype != np.uint8:
            raise ValueError(f"{paths[name]} holds {array.dtype} data of shape {array.shape}; it must be "
                             f"uint8 of shape {layout}. Is it the right file?")
    for images, labels in ((TRAIN_IMAGES, TRAIN_LABELS), (TEST_IMAGES, TEST_LABELS)):
        if len(arrays[images]) != len(arrays[labels]):
            raise ValueError(f"{paths[images]} has {len(arrays[images]):,} images but {paths[labels]} has "
                             f"{len(arrays[labels]):,} labels: not the same release. Download both again.")
    return (arrays[TRAIN_IMAGES], arrays[TRAIN_LABELS]), (arrays[TEST_IMAGES], arrays[TEST_LABELS])


def _print_checks(data_dir, dataset):
    folder = resolve_data_dir(data_dir, dataset)
    checks = verify_mnist(folder, dataset)
    print(f"{_dataset(dataset)[0]} files in {folder}:")
    for name, path, status, detail in checks.values():
        print(f"  {status.upper():9} {path.name if path else name:28} {detail}")
    return 0 if all(check.status == "ok" for check in checks.values()) else 1


def _print_info(dataset):
    for name in [dataset] if dataset else DATASETS:
        title, _, pins = _dataset(name)
        print(f"{title} (--dataset {name}), folder {resolve_data_dir(None, name)}; mirrors, in order:")
        print("".join(f"    {url}\n" for url in mirror_list(name)) + "  pinned SHA-256 (decompressed):")
        print("\n".join(f"    {file_name:28} {pins[file_name]}" for file_name in FILE_NAMES))
    return 0


def main(argv=None):
    """Run the command line (see --help); returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m mnist_utils", description="Download and check the MNIST (or Fashion-MNIST) files.",
        epilog="Exit status: 0 when all is well, 1 when something failed, 2 for a usage error.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    download = commands.add_parser("download", help="download the missing files, then verify them")
    verify = commands.add_parser("verify", help="check the files against the pins (offline)")
    for command in (download, verify):
        command.add_argument("--dataset", choices=DATASETS, default="mnist", help="default: %(default)s")
        command.add_argument("--data-dir", type=Path, help=f"folder of the files (default: ${DATA_DIR_ENV}, "
                             f"else ./{DEFAULT_DATA_DIR}, for fashion its subfolder {FASHION_SUBFOLDER})")
    download.add_argument("--mirror", action="append", metavar="URL",
                          help="base URL to use instead of the default mirrors (repeatable)")
    commands.add_parser("info", help="show the mirrors and the pins").add_argument(
        "--dataset", choices=DATASETS, help="only this data set")
    args = parser.parse_args(argv)
    try:
        if args.command == "info":
            return _print_info(args.dataset)
        if args.command == "download":
            download_mnist(args.data_dir, args.dataset, mirrors=args.mirror)
        return _print_checks(args.data_dir, args.dataset)
    except (DownloadError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
