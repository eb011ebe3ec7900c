"""Scan another bottle with the camera: our own QR, fed to Chromium as a fake camera (y4m)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from api.trace.codes import qr
from tests.scanner_app.conftest import CHROMIUM, CHROMIUM_ARGS, Server


def y4m_of(png: bytes, tmp_path: Path) -> Path:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        reason = "ffmpeg is missing (make deps-test installs it)"
        if os.environ.get("JIUYUAN_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    image, video = tmp_path / "code.png", tmp_path / "camera.y4m"
    image.write_bytes(png)
    # A short 640×480 clip of the QR on white; Chromium loops it as the camera's frames.
    subprocess.run(
        [
            ffmpeg,
            "-loglevel",
            "error",
            "-y",
            "-loop",
            "1",
            "-i",
            str(image),
            "-t",
            "1",
            "-r",
            "10",
            "-vf",
            "scale=400:400,pad=640:480:120:40:white,format=yuv420p",
            str(video),
        ],
        check=True,
        timeout=30,
    )
    return video


def test_camera_reads_our_qr_and_opens_that_bottle(
    server: Server, tmp_path: Path, driver: Any
) -> None:
    target = server.bottles[5]
    video = y4m_of(qr.png(f"https://{server.host}{target}"), tmp_path)
    fake_camera = [
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    chromium = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + fake_camera)
    try:
        page = chromium.new_context(viewport={"width": 390, "height": 844}).new_page()
        page.goto(server.url(server.bottles[0]))
        page.get_by_role("button", name="打开相机扫码").click()
        page.wait_for_url("**" + target, timeout=15_000)
        page.locator("#badge.verified").wait_for(timeout=10_000)
        assert page.locator("#verdict").inner_text() == "✔ 正品"
    finally:
        chromium.close()
