from django import template

register = template.Library()


@register.inclusion_tag("admin/nodeflow_sandbox_status.html")
def sandbox_status():
    """Which isolation the code node runs with here (the admin's front page shows it)."""
    import sandbox

    return {"status": sandbox.sandbox_status()}
