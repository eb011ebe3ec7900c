"""The plain server-rendered page a browser gets when it opens a code's URI."""

from __future__ import annotations

from html import escape

from api.trace.resolver.schemas import Lookup

_VERDICT = {
    "genuine": ("✔ 正品 Genuine", "#1b7f3b"),
    "suspicious": ("⚠ 可疑 Suspicious", "#b35c00"),
    "unknown": ("✘ 非本品牌编码 Not our code", "#b00020"),
}
_NO_SERIAL = ("✘ 非单瓶编码 Not a bottle code", "#b00020")
"""A lot's or a product's link: it vouches for no bottle."""

_STYLE = """
body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;max-width:46rem;margin:auto;
padding:1rem;color:#222;line-height:1.45}h1{font-size:1.35rem}h2{font-size:1.05rem;margin-top:1.6rem;
border-bottom:1px solid #ddd}table{border-collapse:collapse;width:100%}td,th{text-align:left;
padding:.25rem .4rem;border-bottom:1px solid #eee;vertical-align:top}.v{padding:.7rem 1rem;
border-radius:.4rem;color:#fff;font-weight:600}.small{color:#666;font-size:.85rem}
code{font-size:.8rem;word-break:break-all}
"""


def render(body: Lookup, uri: str) -> str:
    text, colour = _VERDICT[body.verdict.status]
    if body.verdict.status == "unknown" and "/21/" not in uri:
        text, colour = _NO_SERIAL
    p = body.product
    out = [
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        f"<title>{escape(p.name_zh)} · 酒源溯源</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(p.name_zh)}<br><span class='small'>{escape(p.name_en)}</span></h1>",
        f"<div class='v' style='background:{colour}'>{escape(text)}</div>",
    ]
    if body.verdict.reasons:
        out.append(
            "<ul>" + "".join(f"<li>{escape(r)}</li>" for r in body.verdict.reasons) + "</ul>"
        )
    rows = [
        ("GTIN", p.gtin),
        ("容量 Volume", f"{p.volume_ml} ml"),
        ("酒精度 ABV", p.abv),
        ("香型 Aroma", f"{p.aroma_zh} ({p.aroma})"),
    ]
    if body.batch is not None:
        b = body.batch
        rows += [
            ("批次 Lot", b.lot),
            ("灌装 Bottled", f"{b.bottled_on} · {b.line}"),
            ("状态 Status", b.status + (f" — {b.recall_reason}" if b.recall_reason else "")),
        ]
    if body.code is not None:
        rows.append(("编码 Code", f"{body.code.serial} ({body.code.kind}, {body.code.state})"))
    out.append("<table>" + "".join(_row(k, v) for k, v in rows) + "</table>")
    if body.blend is not None:
        bl = body.blend
        out.append(f"<h2>勾调 Blend {escape(bl.blend_no)}</h2>")
        out.append(
            f"<p class='small'>{escape(bl.blended_on)} · 勾调师 {escape(bl.blender)} · "
            f"{bl.abv_permille / 10:.1f}%vol {escape(bl.notes)}</p><table>"
            "<tr><th>基酒 Lot</th><th>年份 Vintage</th><th>酒厂 Distillery</th>"
            "<th>等级 Grade</th><th>占比 Share</th></tr>"
        )
        for bs in bl.base_liquors:
            out.append(
                f"<tr><td>{escape(bs.lot)}</td><td>{bs.vintage}</td>"
                f"<td>{escape(bs.distillery)}</td><td>{escape(bs.grade)}</td>"
                f"<td>{bs.share_bp / 100:.2f}%</td></tr>"
            )
        out.append("</table>")
    if body.storage:
        out.append(
            "<h2>储存 Storage</h2><table><tr><th>Zone</th><th>Period</th>"
            "<th>°C min/mean/max</th><th>%RH min/mean/max</th><th>Excursions</th></tr>"
        )
        for leg in body.storage:
            t, h = leg.temperature_c, leg.humidity_rh
            out.append(
                f"<tr><td>{escape(leg.name)}<br><span class='small'>{escape(leg.region or '')}"
                f"</span></td><td>{escape(leg.since[:10])} – {escape((leg.until or '')[:10])}"
                f"<br><span class='small'>{leg.hours} h, {leg.readings} readings</span></td>"
                f"<td>{_band(t)}</td><td>{_band(h)}</td><td>{len(leg.excursions)}</td></tr>"
            )
        out.append("</table>")
    if body.custody:
        out.append("<h2>流转 Custody</h2><table>")
        for step in body.custody:
            out.append(_row(step.at[:16].replace("T", " "), f"{step.event} · {step.region or ''}"))
        out.append("</table>")
    if body.scans is not None:
        s = body.scans
        out.append(
            f"<h2>扫码 Scans</h2><p>{s.count} scans, first {escape(s.first_scan_at or '—')}, "
            f"{s.distinct_devices} devices.</p>"
        )
    if body.checkpoint is not None:
        out.append(
            f"<h2>证明 Proofs</h2><p class='small'>{len(body.entries)} ledger entries, each "
            f"with an inclusion proof to checkpoint {body.checkpoint.tree_size}. Fetch this "
            f"page as JSON to verify them yourself:</p><code>curl -H 'Accept: application/json' "
            f"{escape(uri.split('?', 1)[0])}</code>"
        )
    out.append("</body></html>")
    return "".join(out)


def _row(key: str, value: str) -> str:
    return f"<tr><th>{escape(key)}</th><td>{escape(value)}</td></tr>"


def _band(values: dict[str, str] | None) -> str:
    if not values:
        return "—"
    return f"{values['min']} / {values['mean']} / {values['max']}"


def problem(message: str) -> str:
    """The plain page of a link that is not one of ours."""
    return (
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>酒源溯源</title><style>{_STYLE}</style></head><body>"
        f"<div class='v' style='background:{_VERDICT['unknown'][1]}'>"
        "✘ 无法识别此编码 Not a code of ours</div>"
        f"<p>{escape(message)}</p></body></html>"
    )
