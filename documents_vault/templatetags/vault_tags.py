from django import template

from documents_vault import queries

register = template.Library()


@register.inclusion_tag("documents_vault/_panel.html", takes_context=True)
def vault_panel(context):
    """The Mon espace panel: how many documents, and what needs the resident's attention."""
    return queries.panel_summary(context["request"].user)
