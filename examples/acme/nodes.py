"""Acme's node types. NodeFlow imports `<app>.nodes` of every installed app the first
time it needs the node-type registry, in the web process and in every worker."""

from engine.errors import PERMANENT, NodeError
from nodes.registry import NodeResult, register_node

# Addresses of these domains belong to people, not to companies.
FREE_MAIL_DOMAINS = frozenset({"gmail.com", "outlook.com", "hotmail.com", "yahoo.com", "proton.me"})


@register_node(
    type="acme.score",
    version=1,
    title="Acme lead score",
    category="acme",
    defaults={"visits": 0},
    params_schema={
        "type": "object",
        "properties": {
            "email": {"type": "string", "title": "Email address"},
            "visits": {"type": "integer", "minimum": 0, "default": 0, "title": "Visits to the pricing page"},
        },
        "required": ["email"],
        "additionalProperties": False,
    },
)
def score(call):
    """Scores a sales lead: 10 points a visit, 50 more for a company address. Writes `vars.score`."""
    email = call.params["email"]
    visits = call.params.get("visits", 0)
    if not isinstance(email, str) or email.count("@") != 1 or not email.rsplit("@", 1)[1]:
        raise NodeError(f"{email!r} is not an email address", PERMANENT, code="acme.invalid_email")
    if not isinstance(visits, int) or isinstance(visits, bool) or visits < 0:
        raise NodeError(f"visits must be a whole number of at least 0, not {visits!r}", PERMANENT,
                        code="acme.invalid_visits")
    domain = email.rsplit("@", 1)[1].lower()
    company = domain not in FREE_MAIL_DOMAINS
    points = visits * 10 + (50 if company else 0)
    call.log(f"{domain}: {visits} visit(s), company address: {company} -> {points} points")
    return NodeResult(output={"score": points, "company": company, "domain": domain}, vars={"score": points})
