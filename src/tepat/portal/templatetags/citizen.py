"""Template helpers for the citizen pages, which are the busiest pages of the site."""

from __future__ import annotations

from django import template
from django.template import TemplateSyntaxError
from django.template.base import FilterExpression, NodeList, Parser, Token
from django.template.defaulttags import CsrfTokenNode
from django.template.loader_tags import BlockNode
from django.urls import get_script_prefix, reverse
from django.utils.safestring import SafeString
from django.utils.translation import get_language

register = template.Library()

# URL names -> paths, per script prefix. Reversing is pure (same name, same prefix, same path),
# and the citizen layout reverses a dozen names on every page, the status check included.
_PATHS: dict[tuple[str, str], str] = {}


@register.simple_tag
def citizen_url(name: str) -> str:
    """`{% url name %}` for argument-free URL names, remembered after the first reverse."""
    key = (name, get_script_prefix())
    path = _PATHS.get(key)
    if path is None:
        path = _PATHS[key] = reverse(name)
    return path


class PerLanguageNode(template.Node):
    # More keys than this means a template varies a fragment on something unbounded: a mistake,
    # but it must not grow the process without limit.
    MAX_KEYS = 64
    # `{% extends %}` looks for blocks through every node on every render; there are none in here
    # (refused at parse time), so it need not look inside.
    child_nodelists = ()

    def __init__(self, nodelist: NodeList, vary_on: list[FilterExpression]) -> None:
        self.nodelist = nodelist
        self.vary_on = vary_on
        # Lives as long as the compiled template (the cached loader keeps it for the process).
        self.rendered: dict[tuple[str, ...], SafeString] = {}

    def render(self, context: template.Context) -> SafeString:
        key = (
            get_language() or "",
            get_script_prefix(),
            *(str(v.resolve(context)) for v in self.vary_on),
        )
        out = self.rendered.get(key)
        if out is None:
            out = self.nodelist.render(context)  # already marked safe, as rendered markup
            if len(self.rendered) >= self.MAX_KEYS:
                self.rendered.clear()
            self.rendered[key] = out
        return out


@register.tag
def per_language(parser: Parser, token: Token) -> PerLanguageNode:
    """`{% per_language [value ...] %}...{% endper_language %}`: the enclosed markup is rendered
    once per active language, script prefix and listed values, then reused.

    For the fixed parts of the citizen pages (labels, navigation, footer: some forty
    translations and a dozen URLs per page), which otherwise cost more to render than the
    status check costs to answer. The enclosed markup may depend on nothing else: no user
    input, no `{% csrf_token %}`, no `{% block %}`; each listed value must come from a small
    fixed set (a mode, a navigation key), never from what a person typed.
    """
    bits = token.split_contents()[1:]
    nodelist = parser.parse(("endper_language",))
    parser.delete_first_token()
    for kind in (BlockNode, CsrfTokenNode):
        if nodelist.get_nodes_by_type(kind):
            raise TemplateSyntaxError(
                f"{{% per_language %}} cannot hold a {kind.__name__}: it would be rendered once"
            )
    return PerLanguageNode(nodelist, [parser.compile_filter(b) for b in bits])
