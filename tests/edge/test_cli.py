import pytest

from edge import cli


@pytest.fixture
def home(ctx, monkeypatch):
    monkeypatch.setenv("COCOA_EDGE_HOME", str(ctx.config.home))
    return ctx.config.home


@pytest.mark.parametrize("command", ["import-farmers", "import-plots"])
def test_importing_a_missing_file_says_so_in_one_line(home, capsys, command):
    status = cli.main([command, str(home / "nowhere.csv")])

    err = capsys.readouterr().err
    assert status == 1
    assert err.startswith("cocoa-edge: cannot read ")
    assert "nowhere.csv" in err
    assert "Traceback" not in err


def test_attaching_a_missing_file_says_so(home, capsys):
    status = cli.main(
        [
            "record",
            "farmer",
            "--json",
            '{"id": "F-1", "name": "Ama"}',
            "--attach",
            str(home / "photo.jpg"),
        ]
    )

    err = capsys.readouterr().err
    assert status == 1
    assert "cannot read" in err
    assert "photo.jpg" in err


def test_a_bad_variable_names_itself_and_the_value_expected(home, capsys, monkeypatch):
    monkeypatch.setenv("COCOA_EDGE_BATCH_RECORDS", "abc")

    status = cli.main(["status"])

    err = capsys.readouterr().err
    assert status == 1
    assert "COCOA_EDGE_BATCH_RECORDS='abc'" in err
    assert "positive whole number" in err


def test_ctrl_c_during_an_import_ends_with_one_line(home, capsys, monkeypatch):
    import edge.importer

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(edge.importer, "import_farmers", interrupted)
    (home / "f.csv").write_text("farmer_code,full_name\nF-1,Ama\n")

    status = cli.main(["import-farmers", str(home / "f.csv")])

    assert status == 130
    assert capsys.readouterr().err.startswith("cocoa-edge: interrupted")


@pytest.mark.parametrize("port", ["99999", "0", "http"])
def test_serve_refuses_a_port_outside_1_to_65535(home, capsys, port):
    with pytest.raises(SystemExit) as caught:
        cli.main(["serve", "--port", port])

    assert caught.value.code == 2
    assert "1 to 65535" in capsys.readouterr().err
