"""Every image we emit decodes back to the same URI with a standard decoder (zbar)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.trace.codes import qr
from tests.api.trace.conftest import make_history, ok

ZBARIMG = shutil.which("zbarimg")


def decode(path: Path) -> list[str]:
    if ZBARIMG is None:
        if os.environ.get("JIUYUAN_REQUIRE_POSTGRES") == "1":
            pytest.fail(
                "zbarimg (Debian zbar-tools) is required in CI; `make deps-test` installs it"
            )
        pytest.skip("zbarimg not installed (Debian zbar-tools; `make deps-test` installs it)")
    done = subprocess.run(
        [ZBARIMG, "--quiet", "--raw", str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_qr_images_decode_to_the_uri(tmp_path: Path, fmt: str) -> None:
    uri = "https://jiuyuan.local/01/06901234567892/10/L20261125A/21/7K3M9Q2XW8D4HP6R"
    image = tmp_path / f"code.{fmt}"
    image.write_bytes(qr.png(uri) if fmt == "png" else qr.svg(uri))
    assert decode(image) == [uri]


def test_served_qr_and_label_sheet(admin: TestClient, tmp_path: Path) -> None:
    h = make_history(admin, bottles=6)
    for fmt in ("png", "svg"):
        response = admin.get(f"/v1/codes/{h.bottles[0]}/qr", params={"format": fmt})
        assert response.status_code == 200
        image = tmp_path / f"served.{fmt}"
        image.write_bytes(response.content)
        assert decode(image) == [h.bottles[0]]
    batches = ok(admin.get("/v1/code-batches", params={"lot": h.lot}))
    bottle_batch = next(b for b in batches if b["kind"] == "bottle")
    sheet = admin.get(f"/v1/code-batches/{bottle_batch['batch_id']}/labels", params={"limit": 6})
    assert sheet.status_code == 200 and sheet.text.count("<svg") == 6
    for serial in (u.rsplit("/", 1)[1] for u in h.bottles):
        assert serial in sheet.text
