"""``{% fragment "name" part ... %}…{% endfragment %}``: a template fragment kept per content
generation and per parts (core.caching.fragments). Every value the enclosed template reads
that can differ between two requests must be one of the parts; the reader's rights are given
as ``request.user`` (keyed by what the user may see, not by who it is)."""

from django import template

from core.caching.fragments import fragment

register = template.Library()


class FragmentNode(template.Node):
    def __init__(self, nodelist: template.NodeList, name, parts: list):
        self.nodelist = nodelist
        self.name = name
        self.parts = parts

    def render(self, context) -> str:
        name = self.name.resolve(context)
        parts = tuple(part.resolve(context) for part in self.parts)
        return fragment(name, parts, lambda: self.nodelist.render(context))


@register.tag("fragment")
def do_fragment(parser, token):
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError(f"'{bits[0]}' needs a name and the parts it depends on")
    nodelist = parser.parse(("endfragment",))
    parser.delete_first_token()
    return FragmentNode(
        nodelist, parser.compile_filter(bits[1]), [parser.compile_filter(b) for b in bits[2:]]
    )
