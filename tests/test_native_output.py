"""runtimes/native_output.py: what third-party converters print goes to the debug log, not the console."""
import logging
import os

from lsnet.runtimes.native_output import chatter_to_debug


def test_native_output_goes_to_the_debug_log(capfd, caplog, monkeypatch) -> None:
    monkeypatch.delenv("LSNET_DEBUG", raising=False)
    with caplog.at_level(logging.DEBUG, logger="lsnet.runtimes.native_output"), chatter_to_debug("converter"):
        os.write(2, b"I0000 native notice\n")
        os.write(1, b"native stdout line\n")
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    logged = [r.getMessage() for r in caplog.records]
    assert logged == ["converter: I0000 native notice", "converter: native stdout line"]


def test_lsnet_debug_lets_it_through(capfd, monkeypatch) -> None:
    monkeypatch.setenv("LSNET_DEBUG", "1")
    with chatter_to_debug("converter"):
        os.write(2, b"native notice\n")
    assert "native notice" in capfd.readouterr().err


def test_an_error_inside_still_restores_the_console(capfd, monkeypatch) -> None:
    monkeypatch.delenv("LSNET_DEBUG", raising=False)
    try:
        with chatter_to_debug("converter"):
            os.write(2, b"before the failure\n")
            raise ValueError("conversion failed")
    except ValueError:
        pass
    os.write(2, b"visible again\n")
    assert capfd.readouterr().err == "visible again\n"
