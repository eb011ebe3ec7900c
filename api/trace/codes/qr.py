"""QR symbols of Digital Link URIs for printed labels.

Error correction M (about 15 % of the symbol recoverable): labels on bottles are printed
clean and small, and M keeps our ~75-character URIs at version 4 (33 × 33 modules), where H
would need version 6 and a bigger label; GS1's guidance for Digital Link on consumer items
allows M. Quiet zone: 4 modules on every side, as ISO/IEC 18004 requires. The PNG has 10
pixels per module; the SVG is drawn in millimetres (1 module = 1 mm, scale it to the label).
"""

from __future__ import annotations

import io

import qrcode
from qrcode.image.pure import PyPNGImage
from qrcode.image.svg import SvgPathImage

QUIET_ZONE = 4
BOX_SIZE = 10


def _code(uri: str) -> qrcode.QRCode:  # type: ignore[type-arg]
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=BOX_SIZE, border=QUIET_ZONE
    )
    code.add_data(uri)
    code.make(fit=True)
    return code


def png(uri: str) -> bytes:
    out = io.BytesIO()
    _code(uri).make_image(image_factory=PyPNGImage).save(out)
    return out.getvalue()


def svg(uri: str) -> bytes:
    out = io.BytesIO()
    _code(uri).make_image(image_factory=SvgPathImage).save(out)
    return out.getvalue()


def svg_inline(uri: str) -> str:
    """An ``<svg>`` element to embed in an HTML page (no XML declaration)."""
    text = svg(uri).decode()
    return text[text.index("<svg") :]
