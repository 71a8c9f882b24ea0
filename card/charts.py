"""Server-rendered SVG bar charts for staff pages (no script, no inline style: the
Content-Security-Policy forbids both). Pure functions: data in, SVG markup out, every text
escaped. Colours come from presentation attributes and the `chart-*` classes of
portal/static/portal/sesame.css."""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from django.utils.formats import number_format

WIDTH = 720
HEIGHT = 280
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 16, 56
MAX_X_LABELS = 16
Y_TICKS = 4


@dataclass(frozen=True)
class Bar:
    label: str  # under the axis (shown for some bars only when there are many)
    value: float
    hint: str = ""  # the bar's own <title>: what a pointer hovering it reads


def _text(value) -> str:
    return escape(str(value), quote=True)


def _number(value: float) -> str:
    """A coordinate, short and locale-free."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _tick_step(maximum: float) -> float:
    """A round step (1, 2 or 5 times a power of ten) giving about Y_TICKS ticks."""
    if maximum <= 0:
        return 1
    raw = maximum / Y_TICKS
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power  # pragma: no cover - the loop always returns


def _tick_label(value: float) -> str:
    """In the reader's language: "1 200" and "2,5" in French, "1,200" and "2.5" in English."""
    number = int(value) if float(value).is_integer() else value
    return number_format(number, force_grouping=True)


def bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    x_label: str,
    y_label: str,
    css_class: str = "",
) -> str:
    """An accessible bar chart: role="img", an aria-label and a <title> saying what it shows,
    a y axis with round ticks, a label under every bar (or every n-th when there are many)."""
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    step = _tick_step(max((bar.value for bar in bars), default=0))
    top_value = step * max(1, math.ceil(max((bar.value for bar in bars), default=0) / step))
    slot = plot_width / max(len(bars), 1)
    gap = min(slot * 0.2, 4)
    every = max(1, math.ceil(len(bars) / MAX_X_LABELS))
    base_y = TOP + plot_height
    classes = " ".join(part for part in ("chart", css_class) if part)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{_text(classes)}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{_text(title)}" preserveAspectRatio="xMinYMin meet">',
        f"<title>{_text(title)}</title>",
        '<g class="chart-grid" stroke="#bbbbbb" stroke-width="1">',
    ]
    ticks = []
    for n in range(int(round(top_value / step)) + 1):
        value = n * step
        y = base_y - plot_height * value / top_value
        parts.append(
            f'<line x1="{LEFT}" y1="{_number(y)}" x2="{WIDTH - RIGHT}" y2="{_number(y)}"/>'
        )
        ticks.append(
            f'<text x="{LEFT - 6}" y="{_number(y + 4)}" text-anchor="end">'
            f"{_text(_tick_label(value))}</text>"
        )
    parts.append("</g>")
    parts.append('<g class="chart-bars" fill="#003d7a">')
    for index, bar in enumerate(bars):
        height = plot_height * bar.value / top_value if top_value else 0
        x = LEFT + index * slot + gap / 2
        parts.append(
            f'<rect x="{_number(x)}" y="{_number(base_y - height)}" '
            f'width="{_number(max(slot - gap, 0.5))}" height="{_number(height)}">'
            f"<title>{_text(bar.hint or f'{bar.label}: {_tick_label(bar.value)}')}</title></rect>"
        )
    parts.append("</g>")
    parts.append(
        f'<g class="chart-axis" stroke="#111111" stroke-width="2">'
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{base_y}"/>'
        f'<line x1="{LEFT}" y1="{base_y}" x2="{WIDTH - RIGHT}" y2="{base_y}"/></g>'
    )
    parts.append('<g class="chart-text" fill="#111111" font-size="12">')
    parts.extend(ticks)
    for index, bar in enumerate(bars):
        if index % every:
            continue
        x = LEFT + index * slot + slot / 2
        parts.append(
            f'<text x="{_number(x)}" y="{base_y + 16}" text-anchor="middle">'
            f"{_text(bar.label)}</text>"
        )
    parts.append(
        f'<text x="{LEFT + plot_width / 2:g}" y="{HEIGHT - 8}" text-anchor="middle" '
        f'class="chart-axis-label">{_text(x_label)}</text>'
    )
    parts.append(
        f'<text x="14" y="{TOP + plot_height / 2:g}" text-anchor="middle" '
        f'transform="rotate(-90 14 {TOP + plot_height / 2:g})" class="chart-axis-label">'
        f"{_text(y_label)}</text>"
    )
    parts.append("</g></svg>")
    return "".join(parts)
