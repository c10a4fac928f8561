"""Where the fault proxies may listen: loopback, and a control API elsewhere only when told
(``--expose-control``, for a proxy inside a container's own network namespace)."""
import argparse

import pytest

from chaosaitrapp.broker.proxy.__main__ import main as broker_main
from chaosaitrapp.faultproxy.addresses import address, loopback_address
from chaosaitrapp.network.proxy.__main__ import main as net_main


def test_addresses_are_parsed_and_listen_ports_stay_on_loopback():
    assert address("0.0.0.0:8003") == ("0.0.0.0", 8003) and loopback_address("127.0.0.1:8002") == ("127.0.0.1", 8002)
    for bad in ("8003", "host:", "host:70000"):
        with pytest.raises(argparse.ArgumentTypeError, match="expected HOST:PORT"):
            address(bad)
    with pytest.raises(argparse.ArgumentTypeError, match="loopback only"):
        loopback_address("0.0.0.0:8002")


@pytest.mark.parametrize("main,argv", [
    (broker_main, ["--listen", "127.0.0.1:1", "--upstream", "http://127.0.0.1:2", "--ticker-upstream", "ws://127.0.0.1:2"]),
    (net_main, ["--route", "redis=1:127.0.0.1:2"]),
])
def test_a_control_api_off_loopback_needs_expose_control(main, argv, capsys):
    with pytest.raises(SystemExit) as refused:
        main(argv + ["--control", "0.0.0.0:3"])
    assert refused.value.code == 2
    err = capsys.readouterr().err
    assert "loopback only, got '0.0.0.0'" in err and "pass --expose-control" in err, err
