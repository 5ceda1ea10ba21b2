"""The [evidence] section: a signing key, a time-stamping authority and its CA; every bad value
one line naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from grayhound.config import parse_config
from grayhound.errors import ConfigError

BASE = '[brands.xiaomi]\nterms = ["xiaomi"]\n'


def parse(text: str, tmp_path: Path):
    return parse_config(BASE + text, tmp_path / "grayhound.toml")


def test_evidence_paths_are_relative_to_the_config_file(tmp_path):
    config = parse(
        '[evidence]\nsigning_key = "keys/grayhound"\ntsa_url = "https://freetsa.org/tsr"\n'
        'tsa_ca = "freetsa-cacert.pem"\ntsa_timeout = 5\n',
        tmp_path,
    )
    assert config.evidence.signing_key == tmp_path / "keys" / "grayhound"
    assert config.evidence.tsa_url == "https://freetsa.org/tsr"
    assert config.evidence.tsa_ca == tmp_path / "freetsa-cacert.pem"
    assert config.evidence.tsa_timeout == 5


def test_without_the_section_nothing_is_sealed(tmp_path):
    evidence = parse("", tmp_path).evidence
    assert evidence.signing_key is None and evidence.tsa_url is None and evidence.tsa_ca is None


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('tsa_url = "ftp://tsa.example/"', "evidence.tsa_url: expected an http(s) URL"),
        ('tsa_url = "javascript:alert(1)"', "evidence.tsa_url: expected an http(s) URL"),
        ("tsa_timeout = nan", "evidence.tsa_timeout"),
        ("tsa_timeout = 0", "evidence.tsa_timeout: must be between 0 and 600"),
        ('signing_key = ""', "evidence.signing_key"),
        ('sign_key = "k"', "sign_key"),
    ],
)
def test_bad_evidence_values_name_the_key(tmp_path, text, named):
    with pytest.raises(ConfigError) as error:
        parse(f"[evidence]\n{text}\n", tmp_path)
    assert named in str(error.value) and "\n" not in str(error.value)
