"""download_mnist against real HTTP servers on 127.0.0.1 serving small fixture files; the MNIST
pins are set, for each test, to the SHA-256 of the fixture files' decompressed bytes."""

import _thread
import gzip
import io
import signal
import socket
import sys
import threading
import time

import pytest

import mnist_utils
from idx_fixtures import (FILE_NAMES, GZ_NAMES, ScriptedServer, mnist_like_gz, mnist_like_idx,
                          sha256)
from mnist_utils import MNIST_MIRRORS, DownloadError, download_mnist, mirror_list

FILES = mnist_like_gz(n_train=500, n_test=100, seed=0)
OTHER_FILES = mnist_like_gz(n_train=500, n_test=100, seed=1)  # well-formed, wrong hashes
PINS = {name: sha256(data) for name, data in mnist_like_idx(n_train=500, n_test=100, seed=0).items()}
TIMEOUT = (2, 2)  # (connect, read) seconds

pytestmark = pytest.mark.timeout(30)


@pytest.fixture(autouse=True)
def fixture_pins_and_no_settings_from_the_environment(monkeypatch):
    for name, digest in PINS.items():
        monkeypatch.setitem(mnist_utils.MNIST_SHA256, name, digest)
    monkeypatch.delenv("MNIST_MIRROR", raising=False)
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)


def serve(httpserver, prefix, files=FILES):
    for name, data in files.items():
        httpserver.expect_request(prefix + name).respond_with_data(
            data, content_type="application/octet-stream")
    return httpserver.url_for(prefix)


def send_headers(handler, content_length):
    handler.send_response(200)
    handler.send_header("Content-Type", "application/octet-stream")
    handler.send_header("Content-Length", str(content_length))
    handler.end_headers()


def assert_folder_holds_exactly(folder, names):
    assert sorted(path.name for path in folder.iterdir()) == sorted(names)


def test_download_stores_every_file_as_served_and_no_temporary_file(httpserver, tmp_path):
    mirror = serve(httpserver, "/good/")

    paths = download_mnist(tmp_path, mirrors=[mirror], timeout=TIMEOUT)

    assert paths == {name: tmp_path / (name + ".gz") for name in FILE_NAMES}
    assert all((tmp_path / name).read_bytes() == FILES[name] for name in GZ_NAMES)
    assert_folder_holds_exactly(tmp_path, GZ_NAMES)


def test_recompressed_files_pass_because_the_pins_are_of_the_decompressed_bytes(httpserver, tmp_path):
    recompressed = {name: gzip.compress(gzip.decompress(data), compresslevel=1, mtime=12345)
                    for name, data in FILES.items()}
    assert recompressed != FILES

    download_mnist(tmp_path, mirrors=[serve(httpserver, "/other/", recompressed)], timeout=TIMEOUT)

    assert all((tmp_path / name).read_bytes() == recompressed[name] for name in GZ_NAMES)


def test_forbidden_mirror_is_skipped_for_the_next(httpserver, tmp_path):
    for name in GZ_NAMES:
        httpserver.expect_request("/forbidden/" + name).respond_with_data(
            "<!DOCTYPE html><title>403 Forbidden</title>", status=403, content_type="text/html")
    mirrors = [httpserver.url_for("/forbidden/"), serve(httpserver, "/good/")]

    download_mnist(tmp_path, mirrors=mirrors, timeout=TIMEOUT)

    assert_folder_holds_exactly(tmp_path, GZ_NAMES)
    assert [request.path for request, _ in httpserver.log[:2]] == [
        "/forbidden/train-images-idx3-ubyte.gz", "/good/train-images-idx3-ubyte.gz"]


@pytest.mark.parametrize("status, content_type, body, reason", [
    (404, "text/plain", b"no such file", "HTTP 404"),
    (503, "text/plain", b"try later", "HTTP 503"),
    (200, "text/html; charset=utf-8", b"\n<!DOCTYPE html><html>Please log in</html>", "HTML page"),
    (200, "application/octet-stream", b"PK\x03\x04 a zip file", "not a gzip file"),
    (200, "application/octet-stream", FILES["train-images-idx3-ubyte.gz"][:5000], "damaged gzip"),
], ids=["404", "503", "html", "not-gzip", "cut-off-gzip"])
def test_mirror_serving_the_wrong_thing_is_rejected_with_the_reason(httpserver, tmp_path, status,
                                                                    content_type, body, reason):
    httpserver.expect_request("/bad/train-images-idx3-ubyte.gz").respond_with_data(
        body, status=status, content_type=content_type)

    with pytest.raises(DownloadError) as error:
        download_mnist(tmp_path, mirrors=[httpserver.url_for("/bad/")], timeout=TIMEOUT)

    [(url, recorded_reason)] = error.value.attempts
    assert url.endswith("/bad/train-images-idx3-ubyte.gz") and reason in recorded_reason
    assert list(tmp_path.iterdir()) == []


def test_hash_mismatch_on_every_mirror_raises_one_error_listing_each_url_and_leaves_nothing(
        httpserver, tmp_path):
    first, second = serve(httpserver, "/a/", OTHER_FILES), serve(httpserver, "/b/", OTHER_FILES)

    with pytest.raises(DownloadError) as error:
        download_mnist(tmp_path, mirrors=[first, second], timeout=TIMEOUT)

    message = str(error.value)
    for mirror in (first, second):
        assert f"{mirror}train-images-idx3-ubyte.gz: served a file that has the SHA-256" in message
    advice = [str(tmp_path), "MNIST_MIRROR", "MNIST_DATA_DIR", "python -m mnist_utils verify"]
    assert all(text in message for text in advice + list(FILE_NAMES))
    assert list(tmp_path.iterdir()) == []


def drop_connection_mid_body(handler, stop):
    send_headers(handler, content_length=100_000)
    handler.wfile.write(b"\x1f\x8b" + bytes(1000))  # then return: HTTP/1.0 closes the socket


@pytest.mark.parametrize("then_a_good_mirror", [False, True], ids=["alone", "then-good"])
def test_connection_dropped_mid_body_moves_on_and_leaves_no_partial_file(httpserver, tmp_path,
                                                                         then_a_good_mirror):
    with ScriptedServer(drop_connection_mid_body) as dropping:
        mirrors = [dropping.url] + ([serve(httpserver, "/good/")] if then_a_good_mirror else [])
        if then_a_good_mirror:
            download_mnist(tmp_path, mirrors=mirrors, timeout=TIMEOUT)
            assert_folder_holds_exactly(tmp_path, GZ_NAMES)
        else:
            with pytest.raises(DownloadError, match="train-images-idx3-ubyte.gz"):
                download_mnist(tmp_path, mirrors=mirrors, timeout=TIMEOUT)
            assert list(tmp_path.iterdir()) == []
    assert len(dropping.requests) == (4 if then_a_good_mirror else 1)


def stall_before_headers(handler, stop):
    stop.wait(10)


def stall_mid_body(handler, stop):
    send_headers(handler, content_length=100_000)
    handler.wfile.write(b"\x1f\x8b")
    handler.wfile.flush()
    stop.wait(10)


@pytest.mark.parametrize("stall", [stall_before_headers, stall_mid_body],
                         ids=["before-headers", "mid-body"])
def test_server_too_slow_hits_the_read_timeout_and_the_next_mirror_is_used(httpserver, tmp_path,
                                                                           stall):
    with ScriptedServer(stall) as slow:
        started = time.perf_counter()
        mirrors = [slow.url, serve(httpserver, "/good/")]
        download_mnist(tmp_path, mirrors=mirrors, timeout=(1, 0.3))
        elapsed = time.perf_counter() - started

    assert_folder_holds_exactly(tmp_path, GZ_NAMES)
    assert len(slow.requests) == 4 and elapsed < 4 * 0.3 + 3  # without the timeout: 4 x 10 s


def test_timeout_is_reported_as_the_reason(tmp_path):
    with ScriptedServer(stall_mid_body) as slow, pytest.raises(DownloadError) as error:
        download_mnist(tmp_path, mirrors=[slow.url], timeout=(1, 0.3))

    [(_, reason)] = error.value.attempts
    assert "timed out" in reason.lower()
    assert list(tmp_path.iterdir()) == []


def test_server_that_never_accepts_the_connection_hits_the_connect_timeout(tmp_path):
    with socket.create_server(("127.0.0.1", 0), backlog=0) as server:
        url = f"http://127.0.0.1:{server.getsockname()[1]}/"
        with socket.create_connection(server.getsockname()):  # fills the queue: later SYNs wait
            started = time.perf_counter()
            with pytest.raises(DownloadError) as error:
                download_mnist(tmp_path, mirrors=[url], timeout=(0.3, 30))

    [(_, reason)] = error.value.attempts
    assert reason.startswith("ConnectTimeout") and time.perf_counter() - started < 3


def test_files_already_present_are_not_fetched_again(httpserver, tmp_path):
    for name, data in mnist_like_idx().items():  # the images decompressed, the labels compressed
        if "images" in name:
            (tmp_path / name).write_bytes(data)
        else:
            (tmp_path / (name + ".gz")).write_bytes(FILES[name + ".gz"])

    paths = download_mnist(tmp_path, mirrors=[httpserver.url_for("/")], timeout=TIMEOUT)

    assert httpserver.log == []
    assert paths["train-images-idx3-ubyte"] == tmp_path / "train-images-idx3-ubyte"
    assert paths["train-labels-idx1-ubyte"] == tmp_path / "train-labels-idx1-ubyte.gz"


def test_mnist_mirror_environment_variable_is_tried_first(httpserver, tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_MIRROR", serve(httpserver, "/from-env/"))
    for variable in ("HTTP_PROXY", "HTTPS_PROXY"):  # a default mirror, if tried, fails locally
        monkeypatch.setenv(variable, "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")

    download_mnist(tmp_path, timeout=TIMEOUT)

    requested = sorted(request.path for request, _ in httpserver.log)
    assert requested == sorted("/from-env/" + name for name in GZ_NAMES)


def test_mnist_mirror_goes_before_the_defaults_but_explicit_mirrors_replace_both(monkeypatch):
    monkeypatch.setenv("MNIST_MIRROR", "http://mirror.example.org/mnist")

    assert mirror_list("mnist") == ["http://mirror.example.org/mnist/", *MNIST_MIRRORS]
    assert mirror_list("mnist", mirrors=["http://127.0.0.1:8000/a"]) == ["http://127.0.0.1:8000/a/"]


def test_mnist_data_dir_names_the_download_folder(httpserver, tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_DATA_DIR", str(tmp_path / "elsewhere"))

    paths = download_mnist(mirrors=[serve(httpserver, "/good/")], timeout=TIMEOUT)

    assert {path.parent for path in paths.values()} == {tmp_path / "elsewhere"}


def trickle_forever(handler, stop):
    send_headers(handler, content_length=1_000_000)
    handler.wfile.write(b"\x1f\x8b")
    while not stop.wait(0.02):
        try:
            handler.wfile.write(bytes(100))
            handler.wfile.flush()
        except OSError:  # the client went away
            return


@pytest.fixture
def ctrl_c_raises_keyboard_interrupt():
    """Python's own SIGINT handler for the test: a process started in the background of a shell ignores SIGINT,
    and then _thread.interrupt_main() does nothing."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_interrupted_download_leaves_no_partial_file(tmp_path, ctrl_c_raises_keyboard_interrupt):
    with ScriptedServer(trickle_forever) as server:
        interrupt = threading.Timer(0.5, _thread.interrupt_main)  # like Ctrl-C during the download
        interrupt.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                download_mnist(tmp_path, mirrors=[server.url], timeout=TIMEOUT)
        finally:
            interrupt.cancel()

    assert list(tmp_path.iterdir()) == []


def serve_slowly(handler, stop):
    data = FILES[handler.path.lstrip("/")]
    send_headers(handler, content_length=len(data))
    for start in range(0, len(data), 20_000):
        handler.wfile.write(data[start:start + 20_000])
        handler.wfile.flush()
        stop.wait(0.01)


def test_two_downloads_at_once_do_not_corrupt_each_other(tmp_path):
    results = []
    with ScriptedServer(serve_slowly) as server:
        runs = [threading.Thread(target=lambda: results.append(
            download_mnist(tmp_path, mirrors=[server.url], timeout=TIMEOUT))) for _ in range(2)]
        for thread in runs:
            thread.start()
        for thread in runs:
            thread.join()

    assert len(results) == 2 and results[0] == results[1]
    assert all((tmp_path / name).read_bytes() == FILES[name] for name in GZ_NAMES)
    assert_folder_holds_exactly(tmp_path, GZ_NAMES)


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_progress_bar_per_file_is_shown_on_a_terminal(httpserver, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "stderr", terminal := Terminal())

    download_mnist(tmp_path, mirrors=[serve(httpserver, "/good/")], timeout=TIMEOUT)

    assert all(f"{name}:" in terminal.getvalue() for name in GZ_NAMES)
    assert "B/s" in terminal.getvalue()


def test_nothing_is_printed_when_the_output_is_not_a_terminal(httpserver, tmp_path, capsys):
    mirror = serve(httpserver, "/good/")

    download_mnist(tmp_path, mirrors=[mirror], timeout=TIMEOUT)

    assert capsys.readouterr() == ("", "")
