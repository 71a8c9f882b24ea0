from django import template

from payments import queries
from payments.forms import used_warning as used_warning_text
from payments.money import format_cents

register = template.Library()


@register.filter
def euros(cents) -> str:
    """12345 → "123,45 €"."""
    try:
        return format_cents(int(cents))
    except (TypeError, ValueError):
        return ""


@register.filter
def used_warning(usage) -> str:
    """A line partly used (`queries.LineUsage`) in words, as the refund form says it."""
    return used_warning_text(usage)


@register.inclusion_tag("payments/_panel.html", takes_context=True)
def payments_panel(context):
    """The Mon espace panel: the wallets of the resident and their children."""
    user = context["request"].user
    people = queries.people_i_pay_for(user)
    return {
        "wallets": [{"person": p, "balance": queries.wallet_balance(p.pk)} for p in people],
        "basket_count": queries.basket_size(user),
    }


@register.inclusion_tag("payments/_basket_link.html", takes_context=True)
def basket_link(context):
    """The header's "Basket (n)" link, shown while the resident's basket has lines (one
    query; nothing for a visitor)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    count = queries.basket_size(user) if user is not None else 0
    return {"count": count}
