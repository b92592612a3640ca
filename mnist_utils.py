"""Read the MNIST handwritten digits (or Fashion-MNIST) into NumPy arrays.

MNIST comes as four files in the IDX format: a small header (two zero bytes, one
byte naming the element type, one byte giving the number of dimensions, then the
size of each dimension as a big-endian 32-bit integer) followed by the elements
themselves, big-endian, in row-major (C) order. The files were published by Yann
LeCun, Corinna Cortes and Christopher Burges at http://yann.lecun.com/exdb/mnist/
and are served, gzip-compressed and byte for byte the same, by the mirrors listed
in MNIST_MIRRORS. Fashion-MNIST (Zalando Research) uses the same format and the
same file names.

``load_mnist()`` returns ``(x_train, y_train), (x_test, y_test)``: the training
and test images as uint8 arrays of shape (60000, 28, 28) and (10000, 28, 28),
one 28x28 picture per row with pixel values from 0 (background) to 255 (ink),
and their labels as uint8 arrays of shape (60000,) and (10000,) holding the
digits 0 to 9. Nothing is flattened or scaled here: the notebook does that.

This module only reads, downloads and checks files. From a shell:
``python -m mnist_utils download``, ``verify`` and ``info`` (see ``--help``).
"""

import argparse
import gzip
import hashlib
import http.client
import logging
import math
import os
import secrets
import struct
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np
import requests
import urllib3
from tqdm import tqdm

# --- The four files -------------------------------------------------------

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"
FILE_NAMES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)
GZ_SUFFIX = ".gz"  # the mirrors serve each file as NAME.gz

DATASETS = ("mnist", "fashion")
DATA_DIR_ENV = "MNIST_DATA_DIR"  # folder to use when no data_dir is given
MIRROR_ENV = "MNIST_MIRROR"  # one base URL tried before the default mirrors
DEFAULT_DATA_DIR = "data"  # relative to the current directory at call time
# Fashion-MNIST has the same file names as MNIST, so by default it gets its
# own subfolder: loading one data set can never silently read the other.
FASHION_SUBFOLDER = "fashion"

CONNECT_TIMEOUT_SECONDS = 10  # to open the connection to a mirror
READ_TIMEOUT_SECONDS = 60  # longest wait for the next bytes of a download
DEFAULT_TIMEOUT = (CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS)
DOWNLOAD_CHUNK_BYTES = 64 * 1024
READ_CHUNK_BYTES = 4 * 1024 * 1024  # decompressed bytes read from a .gz at a time
TEMPORARY_SUFFIX = ".part"  # unfinished writes; never read as data

# --- The IDX format -------------------------------------------------------

GZIP_MAGIC = b"\x1f\x8b"  # the first two bytes of every gzip file
IDX_PREFIX_BYTES = 4  # 0x00 0x00, type code, number of dimensions
IDX_DIMENSION_BYTES = 4  # each dimension size: big-endian unsigned 32-bit
MAX_IDX_DIMENSION_SIZE = 2**32 - 1
# Type code -> element type (">" means big-endian, as IDX stores them).
IDX_DTYPES = MappingProxyType({
    0x08: np.dtype(">u1"),  # unsigned byte
    0x09: np.dtype(">i1"),  # signed byte
    0x0B: np.dtype(">i2"),  # short
    0x0C: np.dtype(">i4"),  # int
    0x0D: np.dtype(">f4"),  # float
    0x0E: np.dtype(">f8"),  # double
})
# Element type in the machine's byte order -> type code (used by write_idx).
_IDX_TYPE_CODES = MappingProxyType(
    {dtype.newbyteorder("="): code for code, dtype in IDX_DTYPES.items()}
)
GZIP_COMPRESS_LEVEL = 6  # zlib's default: close to level 9 in size, much faster

# --- Mirrors and pinned SHA-256 -------------------------------------------
#
# Two pins per file, named after what they hash:
#   *_GZ_SHA256   the .gz file exactly as the mirrors serve it. Every download
#                 is checked against it.
#   *_IDX_SHA256  the decompressed IDX bytes: the contract. `verify` checks files
#                 against it whatever their compression, so files that were
#                 re-compressed or placed by hand can be checked too; a download
#                 whose .gz hash differs is still accepted if its decompressed
#                 bytes match it.

MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",  # PyTorch's copy
    "https://storage.googleapis.com/cvdf-datasets/mnist/",  # CVDF's copy (TensorFlow)
    "http://yann.lecun.com/exdb/mnist/",  # the original host; it has refused downloads at times
)

# SHA-256 of the .gz files as served. Source: TensorFlow Datasets,
# tensorflow_datasets/url_checksums/mnist.txt (github.com/tensorflow/datasets),
# measured on storage.googleapis.com/cvdf-datasets/mnist/. The same four values
# are pinned for yann.lecun.com/exdb/mnist/ by torchvision's prototype datasets
# (github.com/pytorch/vision, torchvision/prototype/datasets/_builtin/mnist.py)
# and for ossci-datasets.s3.amazonaws.com/mnist/ by torchvision-ruby
# (github.com/ankane/torchvision-ruby, lib/torchvision/datasets/mnist.rb), so
# the three mirrors serve identical bytes. torchvision's MNIST class
# (torchvision/datasets/mnist.py) publishes the MD5 of the same .gz files:
# train images f68b3c2dcbeaaa9fbdd348bbdeb94873, train labels
# d53e105ee54ea40749a09fcbcd1e9432, test images 9fb629c4189551a2d022fa330f9573f3,
# test labels ec29112dd5afa0611ce80d1b7f02629c. An MD5 cannot be compared with
# a SHA-256 without the file, so they are cited here and the SHA-256 is pinned.
MNIST_GZ_SHA256 = MappingProxyType({
    TRAIN_IMAGES + GZ_SUFFIX: "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    TRAIN_LABELS + GZ_SUFFIX: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    TEST_IMAGES + GZ_SUFFIX: "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    TEST_LABELS + GZ_SUFFIX: "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
})

# SHA-256 of the decompressed IDX files. Measured on this project's copy of the
# original files (shared/data/README.md) and re-measured while writing this
# module. The MD5 of the same decompressed bytes, measured alongside (train
# images 6bbc9ace898e44ae57da46a324031adb, train labels
# a25bea736e30d166cdddb491f175f624, test images 2646ac647ad5339dbf082846283269ea,
# test labels 27ae3e4e09519cfbb04c329615203637), equals the MD5 that secml
# publishes for the decompressed MNIST files (github.com/pralab/secml,
# src/secml/data/loader/c_dataloader_mnist.py): the bytes are the original ones.
MNIST_IDX_SHA256 = MappingProxyType({
    TRAIN_IMAGES: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    TRAIN_LABELS: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    TEST_IMAGES: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    TEST_LABELS: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
})

# The download links of Fashion-MNIST's README (github.com/zalandoresearch/
# fashion-mnist, "Get the Data"): an S3 website, reachable over plain HTTP only
# (the SHA-256 pins make that safe). The README also offers the files in the
# repository itself, under data/fashion.
FASHION_MNIST_MIRRORS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
)

# SHA-256 of the .gz files as served. Source: TensorFlow Datasets,
# tensorflow_datasets/url_checksums/fashion_mnist.txt; the same values are in
# torchvision's prototype datasets (torchvision/prototype/datasets/_builtin/
# mnist.py, class FashionMNIST). The MD5 of the same files, published in
# Fashion-MNIST's README and in torchvision's FashionMNIST class: train images
# 8d4fb7e6c68d591d4c3dfef9ec88bf0d, train labels 25c81989df183df01b3e8a0aad5dffbe,
# test images bef4ecab320f06d8554ea6380940ec79, test labels
# bb300cfdad3c16e7a12a480ee83cd310 (cited, not used: see above).
FASHION_MNIST_GZ_SHA256 = MappingProxyType({
    TRAIN_IMAGES + GZ_SUFFIX: "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    TRAIN_LABELS + GZ_SUFFIX: "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    TEST_IMAGES + GZ_SUFFIX: "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    TEST_LABELS + GZ_SUFFIX: "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
})

# SHA-256 of the decompressed Fashion-MNIST files; no published value was found,
# so they were measured here, on the files of Debian's package
# dataset-fashion-mnist (0.0~git20200523.55506a9-1, /usr/share/datasets/
# fashion-mnist). Debian re-wrote the gzip headers (no file name, another
# timestamp) but kept the compressed data: the original header put back
# (file name, timestamp 2017-08-31 10:50:06 UTC for the training files and
# 10:50:27 for the test files) gives files whose SHA-256 are the four pinned
# above and whose MD5 are the four cited above, so these are the original
# bytes. The MD5 of the decompressed bytes: train images
# f4a8712d7a061bf5bd6d2ca38dc4d50a, train labels 9018921c3c673c538a1fc5bad174d6f9,
# test images 8181f5470baa50b63fa0f6fddb340f0a, test labels
# 15d484375f8d13e6eb1aabb0c3f46965.
FASHION_MNIST_IDX_SHA256 = MappingProxyType({
    TRAIN_IMAGES: "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    TRAIN_LABELS: "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    TEST_IMAGES: "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    TEST_LABELS: "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
})


@dataclass(frozen=True)
class _Dataset:
    title: str
    mirrors: tuple
    gz_sha256: MappingProxyType
    idx_sha256: MappingProxyType


_DATASETS = MappingProxyType({
    "mnist": _Dataset("MNIST", MNIST_MIRRORS, MNIST_GZ_SHA256, MNIST_IDX_SHA256),
    "fashion": _Dataset(
        "Fashion-MNIST", FASHION_MNIST_MIRRORS, FASHION_MNIST_GZ_SHA256, FASHION_MNIST_IDX_SHA256
    ),
})

_log = logging.getLogger(__name__)


class DownloadError(RuntimeError):
    """No mirror delivered one of the files.

    ``attempts`` holds one ``(url, reason)`` pair per URL tried for that file.
    """

    def __init__(self, message, attempts):
        super().__init__(message)
        self.attempts = tuple(attempts)


@dataclass(frozen=True)
class FileCheck:
    """What `verify_mnist` found for one of the four files.

    ``status`` is one of: "ok" (matches a pinned SHA-256), "missing",
    "mismatch" (does not match) or "damaged" (not a readable gzip file).
    """

    name: str
    path: Path | None
    status: str
    detail: str

    @property
    def ok(self):
        return self.status == "ok"


# --- Reading and writing IDX files ----------------------------------------


def read_idx(path):
    """Read an IDX file, gzip-compressed or not, into a NumPy array.

    Compression is recognised by the file's first bytes (1f 8b), not its name.
    The array has the file's element type in the machine's byte order and the
    shape given by its header. Raises ValueError, naming the file, if it is not
    a complete, well-formed IDX file.
    """
    path = Path(path)
    with open(path, "rb") as file:
        is_gzip = file.read(len(GZIP_MAGIC)) == GZIP_MAGIC
        file.seek(0)
        if path.suffix == GZ_SUFFIX and not is_gzip:
            raise ValueError(
                f"{path} is named {GZ_SUFFIX} but is not gzip-compressed"
                f"{_html_hint(file.read(IDX_PREFIX_BYTES))}. Delete it and download it again."
            )
        if not is_gzip:
            return _parse_idx(file, path, file_size=os.fstat(file.fileno()).st_size)
        try:
            with gzip.GzipFile(fileobj=file) as stream:
                return _parse_idx(stream, path, file_size=None)
        except (gzip.BadGzipFile, zlib.error, EOFError) as error:
            raise ValueError(
                f"{path} is a damaged gzip file ({error}). Delete it and download it again."
            ) from error


def _parse_idx(stream, path, file_size):
    """Parse the IDX bytes of `stream`. For an uncompressed file, `file_size`
    is checked against the header before the data is read; for a gzip stream
    it is None and the data is read in chunks, so a header that claims more
    data than there is cannot make us allocate that much."""
    prefix = stream.read(IDX_PREFIX_BYTES)
    if len(prefix) < IDX_PREFIX_BYTES:
        what = "empty" if not prefix else f"only {len(prefix)} bytes long"
        raise ValueError(
            f"{path} is {what}, too short for an IDX file. Delete it and download it again."
        )
    zero_1, zero_2, type_code, n_dimensions = prefix
    if zero_1 != 0 or zero_2 != 0:
        raise ValueError(
            f"{path} is not an IDX file: it starts with {prefix!r} instead of two zero bytes"
            f"{_html_hint(prefix)}. Delete it and download it again."
        )
    if type_code not in IDX_DTYPES:
        known = ", ".join(f"0x{code:02X}" for code in IDX_DTYPES)
        raise ValueError(
            f"{path} has the unknown IDX type code 0x{type_code:02X} (known: {known})."
        )
    if n_dimensions == 0:
        raise ValueError(f"{path} declares 0 dimensions; an IDX file has at least one.")

    sizes = stream.read(IDX_DIMENSION_BYTES * n_dimensions)
    if len(sizes) < IDX_DIMENSION_BYTES * n_dimensions:
        raise ValueError(
            f"{path} is truncated inside its header ({n_dimensions} dimension sizes announced). "
            "Delete it and download it again."
        )
    shape = struct.unpack(f">{n_dimensions}I", sizes)
    dtype = IDX_DTYPES[type_code]
    expected_bytes = math.prod(shape) * dtype.itemsize

    if file_size is not None:
        found_bytes = file_size - IDX_PREFIX_BYTES - len(sizes)
        if found_bytes != expected_bytes:
            raise _size_error(path, shape, dtype, expected_bytes, found_bytes)
        payload = bytearray(expected_bytes)
        found_bytes = stream.readinto(payload)
        if found_bytes != expected_bytes:  # the file shrank while we read it
            raise _size_error(path, shape, dtype, expected_bytes, found_bytes)
    else:
        payload = _read_up_to(stream, expected_bytes)
        if len(payload) < expected_bytes:
            raise _size_error(path, shape, dtype, expected_bytes, len(payload))
        if stream.read(1):
            raise _size_error(path, shape, dtype, expected_bytes, found_bytes=None)

    try:
        array = np.frombuffer(payload, dtype=dtype).reshape(shape)
    except ValueError as error:  # e.g. more dimensions than NumPy supports
        raise ValueError(f"{path}: cannot make an array of shape {shape}: {error}") from error
    return array.astype(dtype.newbyteorder("="), copy=False)


def _read_up_to(stream, n_bytes):
    """Read at most `n_bytes` from `stream`, in chunks: memory grows only with
    the bytes that really arrive."""
    data = bytearray()
    while len(data) < n_bytes:
        chunk = stream.read(min(READ_CHUNK_BYTES, n_bytes - len(data)))
        if not chunk:
            break
        data += chunk
    return data


def _size_error(path, shape, dtype, expected_bytes, found_bytes):
    """`found_bytes`: the data bytes after the header; None when we only know
    that there are more than expected."""
    if found_bytes is not None and found_bytes < expected_bytes:
        problem, found = "is truncated", f"only {found_bytes:,}"
    else:
        problem = "has extra bytes at the end"
        found = "more" if found_bytes is None else f"{found_bytes:,}"
    return ValueError(
        f"{path} {problem}: its header announces {dtype.name} data of shape {shape}, "
        f"{expected_bytes:,} bytes, but {found} bytes follow the header. "
        "Delete it and download it again."
    )


def _html_hint(first_bytes):
    if first_bytes.lstrip().startswith(b"<"):
        return " (it looks like an HTML page, perhaps an error page saved in place of the file)"
    return ""


def write_idx(path, array):
    """Write `array` as an IDX file, gzip-compressed if `path` ends with .gz.

    The file appears only once complete (written to a temporary file in the
    same folder, then renamed). Raises TypeError for an element type that IDX
    cannot hold and ValueError for a 0-dimensional array.
    """
    path = Path(path)
    array = np.asarray(array)
    native_dtype = array.dtype.newbyteorder("=")
    if native_dtype not in _IDX_TYPE_CODES:
        storable = ", ".join(dtype.name for dtype in _IDX_TYPE_CODES)
        raise TypeError(
            f"IDX cannot store {array.dtype} values; convert the array to one of {storable} "
            "first (e.g. array.astype(np.int32))."
        )
    if array.ndim == 0:
        raise ValueError("IDX needs at least one dimension; pass np.atleast_1d(array).")
    if max(array.shape) > MAX_IDX_DIMENSION_SIZE:
        raise ValueError(
            f"IDX dimension sizes are limited to {MAX_IDX_DIMENSION_SIZE:,}; "
            f"got shape {array.shape}."
        )

    header = bytes([0, 0, _IDX_TYPE_CODES[native_dtype], array.ndim])
    header += struct.pack(f">{array.ndim}I", *array.shape)
    payload = np.ascontiguousarray(array, dtype=native_dtype.newbyteorder(">")).tobytes()
    temporary, file = _create_temporary_file(path)
    try:
        with file:
            if path.suffix == GZ_SUFFIX:
                # filename="" and mtime=0: the same array always gives the same bytes
                with gzip.GzipFile(
                    filename="", mode="wb", fileobj=file, compresslevel=GZIP_COMPRESS_LEVEL, mtime=0
                ) as compressed:
                    compressed.write(header)
                    compressed.write(payload)
            else:
                file.write(header)
                file.write(payload)
        os.replace(temporary, path)
    except BaseException:
        _remove_if_present(temporary)
        raise


def _create_temporary_file(destination):
    """Create and open a new file with a unique name next to `destination`."""
    while True:
        unique = secrets.token_hex(6)
        temporary = destination.with_name(f"{destination.name}.{unique}{TEMPORARY_SUFFIX}")
        try:
            return temporary, open(temporary, "xb")  # "x": fails rather than reuse a file
        except FileExistsError:
            continue


def _remove_if_present(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


# --- Where the files are, where they come from ----------------------------


def resolve_data_dir(data_dir=None, dataset="mnist"):
    """The folder to use: `data_dir` if given, else $MNIST_DATA_DIR, else
    "data" in the current directory (for Fashion-MNIST, their "fashion"
    subfolder, since its files have the same names as MNIST's)."""
    _dataset(dataset)
    if data_dir is None:
        data_dir = Path(os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)
        if dataset == "fashion":
            data_dir = data_dir / FASHION_SUBFOLDER
    return Path(data_dir).expanduser().absolute()


def mirror_list(dataset="mnist", mirrors=None):
    """The base URLs to try, in order: `mirrors` if given; otherwise
    $MNIST_MIRROR (if set) followed by the data set's default mirrors."""
    if isinstance(mirrors, str):
        raise TypeError(
            f"mirrors must be a list of base URLs, not a string: use mirrors=[{mirrors!r}]."
        )
    if mirrors is None:
        from_environment = os.environ.get(MIRROR_ENV)
        mirrors = ([from_environment] if from_environment else []) + list(_dataset(dataset).mirrors)
    if not mirrors:
        raise ValueError("mirrors is empty: give at least one base URL.")
    return [url if url.endswith("/") else url + "/" for url in mirrors]


def _dataset(name):
    try:
        return _DATASETS[name]
    except KeyError:
        choices = ", ".join(DATASETS)
        raise ValueError(f"Unknown dataset {name!r}: choose one of {choices}.") from None


def _existing_file(folder, name):
    """The file holding `name` in `folder`, decompressed or .gz, or None."""
    for candidate in (folder / name, folder / (name + GZ_SUFFIX)):
        if candidate.is_file():
            return candidate
    return None


def _cli_hint(command, folder, dataset):
    dataset_option = f" --dataset {dataset}" if dataset != "mnist" else ""
    return f"python -m mnist_utils {command} --data-dir {folder}{dataset_option}"


# --- Downloading ----------------------------------------------------------


class _MirrorFailed(Exception):
    """This mirror did not deliver the right file; try the next one."""


# What makes us move on to the next mirror: a wrong answer (_MirrorFailed), an
# HTTP or connection error or timeout (requests, or urllib3 while streaming the
# body), a connection dropped mid-body (http.client.IncompleteRead).
_MIRROR_ERRORS = (_MirrorFailed, requests.RequestException, urllib3.exceptions.HTTPError,
                  http.client.HTTPException)


def download_mnist(data_dir=None, dataset="mnist", mirrors=None, timeout=DEFAULT_TIMEOUT,
                   checksums=None):
    """Download those of the four files that are not in `data_dir` yet.

    A file counts as present when it is there under its standard name, either
    decompressed or with .gz added; present files are neither fetched nor
    checked (see `verify_mnist`). Each missing NAME.gz is fetched from the
    mirrors in order (see `mirror_list`) and kept only if its SHA-256 matches the
    pin, or, for a mirror that re-compressed the files, if its decompressed
    bytes match the pinned IDX SHA-256. `checksums` maps .gz names to the SHA-256
    expected instead of the pins (for your own mirror or test files).
    `timeout` is (connect, read) in seconds.

    Returns a dict mapping each standard name (e.g. "train-images-idx3-ubyte")
    to the path of its file. Raises DownloadError when no mirror delivers a file.
    """
    source = _dataset(dataset)
    folder = resolve_data_dir(data_dir, dataset)
    urls = mirror_list(dataset, mirrors)
    expected_gz_sha256 = dict(source.gz_sha256)
    unknown = set(checksums or {}) - set(expected_gz_sha256)
    if unknown:
        raise ValueError(
            f"checksums has unknown file names {sorted(unknown)}; use {sorted(expected_gz_sha256)}."
        )
    expected_gz_sha256.update({name: digest.lower() for name, digest in (checksums or {}).items()})

    paths = {name: _existing_file(folder, name) for name in FILE_NAMES}
    missing = [name for name, path in paths.items() if path is None]
    if missing:
        folder.mkdir(parents=True, exist_ok=True)
    with requests.Session() as session:
        for name in missing:
            gz_name = name + GZ_SUFFIX
            attempts = []
            for base_url in urls:
                url = base_url + gz_name
                try:
                    paths[name] = _fetch(session, url, folder / gz_name,
                                         expected_gz_sha256[gz_name], source.idx_sha256[name],
                                         timeout)
                    break
                except _MIRROR_ERRORS as error:
                    reason = _describe(error)
                    attempts.append((url, reason))
                    _log.info("%s failed (%s); trying the next mirror", url, reason)
            else:
                still_missing = [other for other in missing if paths[other] is None]
                message = _download_error_message(gz_name, attempts, folder, still_missing, dataset)
                raise DownloadError(message, attempts)
    return paths


def _fetch(session, url, destination, expected_sha256, pinned_idx_sha256, timeout):
    """Stream `url` to a temporary file next to `destination`; move it into place
    only if its hash is right. On any failure nothing is left behind."""
    temporary, file = _create_temporary_file(destination)
    try:
        with file, session.get(url, stream=True, timeout=timeout) as response:
            if response.status_code != 200:
                html = " (an HTML page)" if _is_html(response) else ""
                raise _MirrorFailed(f"HTTP {response.status_code} {response.reason}{html}")
            if _is_html(response):
                raise _MirrorFailed("served an HTML page (Content-Type text/html), not the file")
            announced_bytes = _content_length(response)
            digest = hashlib.sha256()
            first_bytes = b""
            received_bytes = 0
            with tqdm(total=announced_bytes, desc=destination.name, unit="B", unit_scale=True,
                      unit_divisor=1024, disable=None, leave=False) as progress:
                # The raw stream, not iter_content: a server that adds its own
                # Content-Encoding must not make us hash re-decoded bytes.
                for chunk in response.raw.stream(DOWNLOAD_CHUNK_BYTES, decode_content=False):
                    if len(first_bytes) < len(GZIP_MAGIC):
                        first_bytes += chunk[:len(GZIP_MAGIC)]
                    file.write(chunk)
                    digest.update(chunk)
                    received_bytes += len(chunk)
                    progress.update(len(chunk))
        # urllib3 2 already raises for a body shorter than Content-Length; urllib3 1 does not.
        if announced_bytes is not None and received_bytes < announced_bytes:
            raise _MirrorFailed(
                f"the connection closed after {received_bytes:,} of {announced_bytes:,} bytes"
            )
        if first_bytes.startswith(b"<"):
            raise _MirrorFailed("served what looks like an HTML page instead of the file")
        if first_bytes[:len(GZIP_MAGIC)] != GZIP_MAGIC:
            raise _MirrorFailed("served something that is not a gzip file")
        right_bytes = digest.hexdigest() == expected_sha256
        if not right_bytes and not _idx_bytes_match(temporary, pinned_idx_sha256):
            raise _MirrorFailed(
                f"SHA-256 {digest.hexdigest()} does not match the expected {expected_sha256}"
            )
        os.replace(temporary, destination)
        return destination
    except BaseException:  # including KeyboardInterrupt: never keep a partial file
        _remove_if_present(temporary)
        raise


def _describe(error):
    if isinstance(error, _MirrorFailed):
        return str(error)
    return f"{type(error).__name__}: {error}"


def _content_length(response):
    try:
        return int(response.headers["Content-Length"])
    except (KeyError, ValueError):
        return None


def _is_html(response):
    return response.headers.get("Content-Type", "").lower().startswith("text/html")


def _idx_bytes_match(path, pinned_idx_sha256):
    try:
        return _idx_sha256(path) == pinned_idx_sha256
    except ValueError:
        return False


def _download_error_message(gz_name, attempts, folder, still_missing, dataset):
    tried = "\n".join(f"  {url}: {reason}" for url, reason in attempts)
    names = ", ".join(FILE_NAMES)
    return (
        f"Could not download {gz_name} from any mirror:\n{tried}\n"
        f"Still missing in {folder}: {', '.join(still_missing)}.\n"
        "To go on, either\n"
        f"  - set {MIRROR_ENV} to the base URL of a mirror you can reach (it is tried first), or\n"
        f"  - on a computer with internet access run `{_cli_hint('download', 'DIR', dataset)}`\n"
        "    and copy DIR's four files here, or\n"
        f"  - put the four files in {folder} by hand: {names},\n"
        f"    each decompressed or gzip-compressed with {GZ_SUFFIX} added to its name\n"
        f"    (or set {DATA_DIR_ENV} to the folder that holds them);\n"
        f"then check them with `{_cli_hint('verify', folder, dataset)}`."
    )


# --- Checking files against the pins -------------------------------------


def verify_mnist(data_dir=None, dataset="mnist"):
    """Check the files in `data_dir` against the pinned SHA-256, offline.

    A .gz file passes if its bytes match the pinned hash of the .gz as the
    mirrors serve it, or if its decompressed bytes match the pinned hash of
    the IDX file; a decompressed file passes if it matches the latter. Checks
    the same files `load_mnist` would read. Returns a dict mapping each
    standard name to a FileCheck.
    """
    source = _dataset(dataset)
    folder = resolve_data_dir(data_dir, dataset)
    return {name: _check_file(folder, name, source) for name in FILE_NAMES}


def _check_file(folder, name, source):
    path = _existing_file(folder, name)
    if path is None:
        return FileCheck(name, None, "missing",
                         f"neither {name} nor {name + GZ_SUFFIX} is in {folder}")
    if path.name.endswith(GZ_SUFFIX) and _file_sha256(path) == source.gz_sha256[path.name]:
        return FileCheck(name, path, "ok", "matches the pinned SHA-256 of the .gz file")
    try:
        actual = _idx_sha256(path)
    except ValueError as error:
        return FileCheck(name, path, "damaged", str(error))
    pinned = source.idx_sha256[name]
    if actual == pinned:
        return FileCheck(name, path, "ok", "matches the pinned SHA-256 of the decompressed bytes")
    return FileCheck(name, path, "mismatch",
                     f"SHA-256 of the decompressed bytes is {actual}, expected {pinned}; "
                     "delete the file and download it again")


def _file_sha256(path):
    with open(path, "rb") as file:
        return _stream_sha256(file)


def _stream_sha256(stream):
    digest = hashlib.sha256()
    while chunk := stream.read(READ_CHUNK_BYTES):
        digest.update(chunk)
    return digest.hexdigest()


def _idx_sha256(path):
    """SHA-256 of a file's decompressed bytes (of the file itself if it is not
    gzip-compressed). Raises ValueError for a damaged gzip file."""
    with open(path, "rb") as file:
        is_gzip = file.read(len(GZIP_MAGIC)) == GZIP_MAGIC
        file.seek(0)
        if not is_gzip:
            return _stream_sha256(file)
        try:
            with gzip.GzipFile(fileobj=file) as stream:
                return _stream_sha256(stream)
        except (gzip.BadGzipFile, zlib.error, EOFError) as error:
            raise ValueError(f"{path} is a damaged gzip file ({error})") from error


# --- Loading --------------------------------------------------------------


def load_mnist(data_dir=None, dataset="mnist", download=True):
    """Load MNIST (or, with dataset="fashion", Fashion-MNIST) as NumPy arrays.

    Returns ``(x_train, y_train), (x_test, y_test)``: uint8 images of shape
    (60000, 28, 28) and (10000, 28, 28), uint8 labels of shape (60000,) and
    (10000,). Files already in `data_dir` (see `resolve_data_dir`) are used,
    .gz or decompressed; missing ones are downloaded if `download` is true
    (see `download_mnist`), otherwise FileNotFoundError says what to do.
    Raises ValueError if a file is malformed or the files do not fit together.
    """
    folder = resolve_data_dir(data_dir, dataset)
    if download:
        paths = download_mnist(folder, dataset)
    else:
        paths = {name: _existing_file(folder, name) for name in FILE_NAMES}
        missing = [name for name, path in paths.items() if path is None]
        if missing:
            raise FileNotFoundError(
                f"{_dataset(dataset).title} files missing in {folder}: "
                f"{', '.join(name + '[.gz]' for name in missing)}. "
                f"Download them with `{_cli_hint('download', folder, dataset)}` "
                "(or call load_mnist with download=True), or put the four files there by hand, "
                "decompressed or gzip-compressed, under their standard names: "
                f"{', '.join(FILE_NAMES)}."
            )
    arrays = {name: read_idx(path) for name, path in paths.items()}
    train = _checked_split(arrays, paths, TRAIN_IMAGES, TRAIN_LABELS)
    test = _checked_split(arrays, paths, TEST_IMAGES, TEST_LABELS)
    return train, test


def _checked_split(arrays, paths, images_name, labels_name):
    images, labels = arrays[images_name], arrays[labels_name]
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(
            f"{paths[images_name]} holds {images.dtype} data of shape {images.shape}; "
            "images must be uint8 of shape (count, height, width). Is it the right file?"
        )
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise ValueError(
            f"{paths[labels_name]} holds {labels.dtype} data of shape {labels.shape}; "
            "labels must be uint8 of shape (count,). Is it the right file?"
        )
    if len(images) != len(labels):
        raise ValueError(
            f"{paths[images_name]} has {len(images):,} images but {paths[labels_name]} has "
            f"{len(labels):,} labels; they must come from the same release. Download both again."
        )
    return images, labels


# --- Command line ---------------------------------------------------------


def _print_checks(checks, folder, title):
    print(f"{title} files in {folder}:")
    for check in checks.values():
        shown = check.path.name if check.path is not None else check.name
        print(f"  {check.status.upper():9} {shown:28} {check.detail}")
    failed = [check for check in checks.values() if not check.ok]
    if failed:
        print(f"{len(failed)} of {len(checks)} files did not pass: "
              f"{', '.join(check.name for check in failed)}.")
    else:
        print(f"All {len(checks)} files match the pinned SHA-256.")
    return 1 if failed else 0


def _command_download(args):
    folder = resolve_data_dir(args.data_dir, args.dataset)
    download_mnist(folder, args.dataset, mirrors=args.mirror)
    return _print_checks(verify_mnist(folder, args.dataset), folder, _dataset(args.dataset).title)


def _command_verify(args):
    folder = resolve_data_dir(args.data_dir, args.dataset)
    return _print_checks(verify_mnist(folder, args.dataset), folder, _dataset(args.dataset).title)


def _command_info(args):
    for name in [args.dataset] if args.dataset else DATASETS:
        source = _dataset(name)
        print(f"{source.title} (--dataset {name})")
        folder = resolve_data_dir(None, name)
        print(f"  folder: {folder}  ({DATA_DIR_ENV} or --data-dir changes it)")
        print(f"  {MIRROR_ENV}: {os.environ.get(MIRROR_ENV) or '(not set)'}")
        print("  mirrors, tried in this order:")
        for url in mirror_list(name):
            print(f"    {url}")
        print("  pinned SHA-256 (of the .gz as served / of the decompressed IDX bytes):")
        for file_name in FILE_NAMES:
            print(f"    {file_name + GZ_SUFFIX:30} {source.gz_sha256[file_name + GZ_SUFFIX]}")
            print(f"    {file_name:30} {source.idx_sha256[file_name]}")
    return 0


def _argument_parser():
    parser = argparse.ArgumentParser(
        prog="python -m mnist_utils",
        description="Download and check the MNIST (or Fashion-MNIST) files.",
        epilog="Exit status: 0 when all is well, 1 when something failed, 2 for a usage error.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add_common_options(command, dataset_default="mnist"):
        command.add_argument("--dataset", choices=DATASETS, default=dataset_default,
                             help="which data set (default: %(default)s)")
        command.add_argument(
            "--data-dir", type=Path, default=None,
            help=f"folder of the four files (default: ${DATA_DIR_ENV}, else ./{DEFAULT_DATA_DIR};"
                 f" for fashion, its subfolder {FASHION_SUBFOLDER})",
        )

    download = commands.add_parser("download", help="download the missing files, then verify them")
    add_common_options(download)
    download.add_argument("--mirror", action="append", metavar="URL",
                          help="base URL to use instead of the default mirrors (repeatable)")
    download.set_defaults(run=_command_download)

    verify = commands.add_parser("verify", help="check the files against the pins (offline)")
    add_common_options(verify)
    verify.set_defaults(run=_command_verify)

    info = commands.add_parser("info", help="show the mirrors and the pinned SHA-256")
    info.add_argument("--dataset", choices=DATASETS, default=None, help="only this data set")
    info.set_defaults(run=_command_info)
    return parser


def main(argv=None):
    """Run the command line; returns the exit status."""
    args = _argument_parser().parse_args(argv)
    try:
        return args.run(args)
    except (DownloadError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; no partial file was kept", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
