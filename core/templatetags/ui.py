"""Template helpers of the layout: yen formatting and Bootstrap form widgets."""

from django import forms, template

from core.money import format_yen

register = template.Library()


@register.filter
def yen(amount):
    """Render integer yen as ¥1,234,567."""
    return format_yen(amount)


@register.filter
def bootstrap(bound_field):
    """Render a form field's widget with the Bootstrap class its kind needs."""
    widget = bound_field.field.widget
    if isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
        # Django puts the attributes on the wrapper too; the choices are styled in app.css.
        return bound_field.as_widget(attrs={"class": "choice-list"})
    if isinstance(widget, forms.CheckboxInput):
        css = "form-check-input"
    elif isinstance(widget, forms.Select | forms.NullBooleanSelect):
        css = "form-select"
    else:
        css = "form-control"
    existing = widget.attrs.get("class", "")
    if bound_field.errors:
        css += " is-invalid"
    return bound_field.as_widget(attrs={"class": f"{existing} {css}".strip()})


@register.filter
def get(mapping, key):
    """Look ``key`` up in a dict from the template context (e.g. role labels by code)."""
    return mapping.get(key, key) if mapping else key


@register.filter
def rate_percent(rate):
    """Render a Decimal rate (0.7250) as a percentage without trailing zeros (72.5%)."""
    if rate is None or rate == "" or rate == "None":
        return ""
    from decimal import Decimal, InvalidOperation

    try:
        rate = Decimal(str(rate))
    except InvalidOperation:
        return rate
    value = (rate * 100).quantize(Decimal("0.01")).normalize()
    return f"{value:f}%"
