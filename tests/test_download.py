"""download_mnist against real HTTP servers on 127.0.0.1 serving small fixture
files whose SHA-256 the tests pass in `checksums`."""

import _thread
import logging
import threading
import time

import pytest

from idx_fixtures import (FILE_NAMES, GZ_NAMES, ScriptedServer, mnist_like_gz, mnist_like_idx,
                          sha256)
from mnist_utils import MNIST_MIRRORS, DownloadError, download_mnist, mirror_list

FILES = mnist_like_gz(n_train=500, n_test=100, seed=0)
OTHER_FILES = mnist_like_gz(n_train=500, n_test=100, seed=1)  # well-formed, wrong hashes
CHECKSUMS = {name: sha256(data) for name, data in FILES.items()}
TIMEOUT = (2, 2)  # (connect, read) seconds

pytestmark = pytest.mark.timeout(30)


@pytest.fixture(autouse=True)
def no_settings_from_the_environment(monkeypatch):
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


def test_download_stores_every_file_with_its_expected_hash_and_no_temporary_file(httpserver,
                                                                                  tmp_path):
    mirror = serve(httpserver, "/good/")

    paths = download_mnist(tmp_path, mirrors=[mirror], checksums=CHECKSUMS, timeout=TIMEOUT)

    assert paths == {name: tmp_path / (name + ".gz") for name in FILE_NAMES}
    assert {name: sha256((tmp_path / name).read_bytes()) for name in GZ_NAMES} == CHECKSUMS
    assert_folder_holds_exactly(tmp_path, GZ_NAMES)


def test_forbidden_html_mirror_is_skipped_for_the_next_and_the_failure_is_logged(httpserver,
                                                                                 tmp_path, caplog):
    for name in GZ_NAMES:
        httpserver.expect_request("/forbidden/" + name).respond_with_data(
            "<!DOCTYPE html><title>403 Forbidden</title>", status=403, content_type="text/html")
    forbidden = httpserver.url_for("/forbidden/")
    caplog.set_level(logging.INFO, logger="mnist_utils")

    good = serve(httpserver, "/good/")

    download_mnist(tmp_path, mirrors=[forbidden, good], checksums=CHECKSUMS, timeout=TIMEOUT)

    assert_folder_holds_exactly(tmp_path, GZ_NAMES)
    assert f"{forbidden}train-images-idx3-ubyte.gz failed (HTTP 403" in caplog.text


@pytest.mark.parametrize("status, content_type, body, reason", [
    (404, "text/plain", b"no such file", "HTTP 404"),
    (503, "text/plain", b"try later", "HTTP 503"),
    (200, "text/html; charset=utf-8", b"Please log in", "HTML page"),
    (200, "application/octet-stream", b"<!DOCTYPE html><html>login</html>", "HTML page"),
    (200, "application/octet-stream", b"PK\x03\x04 a zip file", "not a gzip file"),
], ids=["404", "503", "html-content-type", "html-body", "not-gzip"])
def test_mirror_serving_the_wrong_thing_is_rejected_with_the_reason(httpserver, tmp_path, status,
                                                                    content_type, body, reason):
    httpserver.expect_request("/bad/train-images-idx3-ubyte.gz").respond_with_data(
        body, status=status, content_type=content_type)
    bad = httpserver.url_for("/bad/")

    with pytest.raises(DownloadError) as error:
        download_mnist(tmp_path, mirrors=[bad], checksums=CHECKSUMS, timeout=TIMEOUT)

    [(url, recorded_reason)] = error.value.attempts
    assert url.endswith("/bad/train-images-idx3-ubyte.gz") and reason in recorded_reason
    assert list(tmp_path.iterdir()) == []


def test_hash_mismatch_on_every_mirror_raises_one_error_listing_each_url_and_leaves_nothing(
        httpserver, tmp_path):
    first, second = serve(httpserver, "/a/", OTHER_FILES), serve(httpserver, "/b/", OTHER_FILES)

    with pytest.raises(DownloadError) as error:
        download_mnist(tmp_path, mirrors=[first, second], checksums=CHECKSUMS, timeout=TIMEOUT)

    message = str(error.value)
    assert f"{first}train-images-idx3-ubyte.gz: SHA-256" in message
    assert f"{second}train-images-idx3-ubyte.gz: SHA-256" in message
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
            download_mnist(tmp_path, mirrors=mirrors, checksums=CHECKSUMS, timeout=TIMEOUT)
            assert_folder_holds_exactly(tmp_path, GZ_NAMES)
        else:
            with pytest.raises(DownloadError, match="train-images-idx3-ubyte.gz"):
                download_mnist(tmp_path, mirrors=mirrors, checksums=CHECKSUMS, timeout=TIMEOUT)
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
def test_server_too_slow_times_out_and_the_next_mirror_is_used(httpserver, tmp_path, stall):
    with ScriptedServer(stall) as slow:
        started = time.perf_counter()
        mirrors = [slow.url, serve(httpserver, "/good/")]
        download_mnist(tmp_path, mirrors=mirrors, checksums=CHECKSUMS, timeout=(1, 0.3))
        elapsed = time.perf_counter() - started

    assert_folder_holds_exactly(tmp_path, GZ_NAMES)
    assert len(slow.requests) == 4 and elapsed < 4 * 0.3 + 3


def test_timeout_is_reported_as_the_reason(tmp_path):
    with ScriptedServer(stall_mid_body) as slow, pytest.raises(DownloadError) as error:
        download_mnist(tmp_path, mirrors=[slow.url], checksums=CHECKSUMS, timeout=(1, 0.3))

    [(_, reason)] = error.value.attempts
    assert "timed out" in reason.lower()
    assert list(tmp_path.iterdir()) == []


def test_files_already_present_are_not_fetched_again(httpserver, tmp_path):
    for name, data in mnist_like_idx().items():  # the images decompressed, the labels compressed
        if "images" in name:
            (tmp_path / name).write_bytes(data)
        else:
            (tmp_path / (name + ".gz")).write_bytes(FILES[name + ".gz"])

    mirror = httpserver.url_for("/")

    paths = download_mnist(tmp_path, mirrors=[mirror], checksums=CHECKSUMS, timeout=TIMEOUT)

    assert httpserver.log == []
    assert paths["train-images-idx3-ubyte"] == tmp_path / "train-images-idx3-ubyte"
    assert paths["train-labels-idx1-ubyte"] == tmp_path / "train-labels-idx1-ubyte.gz"


def test_mnist_mirror_environment_variable_is_tried_first(httpserver, tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_MIRROR", serve(httpserver, "/from-env/"))
    for variable in ("HTTP_PROXY", "HTTPS_PROXY"):  # a default mirror, if tried, fails locally
        monkeypatch.setenv(variable, "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")

    download_mnist(tmp_path, checksums=CHECKSUMS, timeout=TIMEOUT)

    requested = sorted(request.path for request, _ in httpserver.log)
    assert requested == sorted("/from-env/" + name for name in GZ_NAMES)


def test_mnist_mirror_goes_before_the_defaults_but_explicit_mirrors_replace_both(monkeypatch):
    monkeypatch.setenv("MNIST_MIRROR", "http://mirror.example.org/mnist")

    assert mirror_list("mnist") == ["http://mirror.example.org/mnist/", *MNIST_MIRRORS]
    assert mirror_list("mnist", mirrors=["http://127.0.0.1:8000/a"]) == ["http://127.0.0.1:8000/a/"]


def trickle_forever(handler, stop):
    send_headers(handler, content_length=1_000_000)
    handler.wfile.write(b"\x1f\x8b")
    while not stop.wait(0.02):
        try:
            handler.wfile.write(bytes(100))
            handler.wfile.flush()
        except OSError:  # the client went away
            return


def test_interrupted_download_leaves_no_partial_file(tmp_path):
    with ScriptedServer(trickle_forever) as server:
        interrupt = threading.Timer(0.5, _thread.interrupt_main)  # like Ctrl-C during the download
        interrupt.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                download_mnist(tmp_path, mirrors=[server.url], checksums=CHECKSUMS, timeout=TIMEOUT)
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

    def run():
        paths = download_mnist(tmp_path, mirrors=[server.url], checksums=CHECKSUMS, timeout=TIMEOUT)
        results.append(paths)

    with ScriptedServer(serve_slowly) as server:
        runs = [threading.Thread(target=run) for _ in range(2)]
        for thread in runs:
            thread.start()
        for thread in runs:
            thread.join()

    assert len(results) == 2 and results[0] == results[1]
    assert {name: sha256((tmp_path / name).read_bytes()) for name in GZ_NAMES} == CHECKSUMS
    assert_folder_holds_exactly(tmp_path, GZ_NAMES)


def test_checksums_for_unknown_file_names_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="train-images.gz"):
        download_mnist(tmp_path, mirrors=["http://127.0.0.1:9/"],
                       checksums={"train-images.gz": "0" * 64})
