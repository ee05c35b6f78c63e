"""Customer register screens: thin views over selectors and services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from core.exceptions import DomainError
from core.feedback import show_error
from core.htmx import is_htmx

from .choices import DOUBLE_CHECKED_ROLES
from .dedup import similar_customers
from .exceptions import DuplicateCustomerError
from .filters import CustomerFilter
from .forms import (
    BankAccountRequestForm,
    ContactLogForm,
    CustomerForm,
    DocumentForm,
    MergeForm,
    PersonForm,
    RejectForm,
    TransferNameForm,
)
from .models import (
    ChangeRequest,
    Customer,
    CustomerDocument,
    CustomerMerge,
    DuplicateCandidate,
    KeyPerson,
)
from .panels import panels_for
from .selectors import (
    customer_get,
    customer_list,
    flatten,
    group_tree,
    history_timeline,
    last_merge_of,
    open_duplicate_candidates,
    pending_changes,
)
from .services import (
    bank_account_request,
    candidate_dismiss,
    change_request_approve,
    change_request_reject,
    contact_log_add,
    customer_create,
    customer_merge,
    customer_merge_undo,
    customer_update,
    document_download,
    document_upload,
    person_add,
    person_request,
    personal_data_reveal,
    transfer_name_add,
)

PAGE_SIZE = 50


def _apply_errors(form, error: ValidationError) -> None:
    """Put a model ValidationError on the form, field by field where it names one."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


@permission_required("customers.view_customer", raise_exception=True)
def customer_list_view(request):
    """The register: search by any spelling (名寄せ key), filter, page. htmx gets the table."""
    filterset = CustomerFilter(request.GET)
    page = Paginator(customer_list(user=request.user, filters=request.GET), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {"filter": filterset, "page_obj": page}
    template = (
        "customers/partials/_customer_table.html"
        if is_htmx(request)
        else "customers/customer_list.html"
    )
    return render(request, template, context)


def _form_page(request, form, customer=None, existing=None):
    context = {"form": form, "customer": customer, "existing": existing}
    return render(request, "customers/customer_form.html", context)


def _save_customer(request, form, customer=None):
    try:
        if customer is None:
            saved = customer_create(actor=request.user, **form.service_fields())
        else:
            saved = customer_update(customer=customer, actor=request.user, **form.service_fields())
    except DuplicateCustomerError as error:
        form.add_error(error.field, error.message)
        return _form_page(request, form, customer, existing=error.existing)
    except ValidationError as error:
        _apply_errors(form, error)
        return _form_page(request, form, customer)
    messages.success(request, _("Saved %(name)s.") % {"name": saved.name})
    return redirect(saved)


@permission_required("customers.add_customer", raise_exception=True)
def customer_create_view(request):
    form = CustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        return _save_customer(request, form)
    return _form_page(request, form)


@permission_required("customers.change_customer", raise_exception=True)
def customer_edit_view(request, pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    form = CustomerForm(request.POST or None, instance=customer)
    if request.method == "POST" and form.is_valid():
        return _save_customer(request, form, customer)
    return _form_page(request, form, customer)


@require_POST
@permission_required("customers.view_customer", raise_exception=True)
def similar_check_view(request):
    """htmx: list existing customers that look like the one being typed, with reasons."""
    data = request.POST
    exclude = data.get("customer_id")
    candidates = similar_customers(
        name=data.get("name", ""),
        name_kana=data.get("name_kana", ""),
        corporate_number=data.get("corporate_number", ""),
        invoice_number=data.get("invoice_number", ""),
        phone=data.get("phone", ""),
        prefecture=data.get("prefecture", ""),
        city=data.get("city", ""),
        street=data.get("street", ""),
        exclude_pk=int(exclude) if exclude and exclude.isdigit() else None,
    )
    return render(request, "customers/partials/_similar.html", {"candidates": candidates})


@permission_required("customers.view_customer", raise_exception=True)
def customer_detail_view(request, pk: int):
    """One page with everything about a party, in tabs."""
    try:
        customer = customer_get(pk=pk)
    except Customer.DoesNotExist:
        raise Http404 from None
    can_see_personal = request.user.has_perm("customers.view_personal_data")
    context = {
        "customer": customer,
        "tab": request.GET.get("tab", "overview"),
        "group": flatten(group_tree(customer=customer)),
        "timeline": history_timeline(customer=customer),
        "merge": last_merge_of(customer=customer) if customer.status == "merged" else None,
        "can_see_personal": can_see_personal,
        "person_form": PersonForm(),
        "account_form": BankAccountRequestForm(),
        "contact_form": ContactLogForm(),
        "document_form": DocumentForm(),
        "transfer_form": TransferNameForm(),
        "reject_form": RejectForm(),
        "double_checked_roles": [str(role) for role in DOUBLE_CHECKED_ROLES],
        "panels": panels_for(request.user, customer),
    }
    return render(request, "customers/customer_detail.html", context)


def _back(customer_pk: int, tab: str):
    return redirect(f"/customers/{customer_pk}/?tab={tab}")


def _run(request, action, success: str) -> bool:
    try:
        action()
    except (ValidationError, DomainError) as error:
        show_error(request, error)
        return False
    messages.success(request, success)
    return True


def _post_to_customer(request, pk: int, form, service, success: str, tab: str):
    """Validate a tab's form and hand it to one service; errors come back as messages."""
    customer = get_object_or_404(Customer, pk=pk)
    if form.is_valid():
        _run(
            request,
            lambda: service(customer=customer, actor=request.user, **form.cleaned_data),
            success,
        )
    else:
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}: {error}" if label else error)
    return _back(pk, tab)


WAITS_FOR_CHECKER = _lazy("The change waits for a second person's approval.")


@require_POST
@permission_required("customers.add_keyperson", raise_exception=True)
def person_add_view(request, pk: int):
    """Shareholders and contacts are added now; representatives and owners wait for a checker."""
    form = PersonForm(request.POST)
    if form.is_valid() and form.cleaned_data["role"] in DOUBLE_CHECKED_ROLES:
        if not request.user.has_perm("customers.add_changerequest"):
            raise PermissionDenied
        return _post_to_customer(request, pk, form, person_request, WAITS_FOR_CHECKER, "persons")
    return _post_to_customer(request, pk, form, person_add, _("Person added."), "persons")


@require_POST
@permission_required("customers.view_personal_data", raise_exception=True)
def person_reveal_view(request, pk: int):
    """htmx: show one person's date of birth and contact data, and log that it was seen."""
    person = get_object_or_404(KeyPerson.objects.select_related("customer"), pk=pk)
    data = personal_data_reveal(person=person, actor=request.user)
    return render(
        request, "customers/partials/_person_personal.html", {"person": person, "data": data}
    )


@require_POST
@permission_required("customers.add_changerequest", raise_exception=True)
def account_request_view(request, pk: int):
    form = BankAccountRequestForm(request.POST)
    return _post_to_customer(request, pk, form, bank_account_request, WAITS_FOR_CHECKER, "accounts")


@require_POST
@permission_required("customers.add_contactlog", raise_exception=True)
def contact_add_view(request, pk: int):
    form = ContactLogForm(request.POST)
    return _post_to_customer(request, pk, form, contact_log_add, _("Contact recorded."), "contacts")


@require_POST
@permission_required("customers.add_customerdocument", raise_exception=True)
def document_upload_view(request, pk: int):
    form = DocumentForm(request.POST, request.FILES)
    return _post_to_customer(request, pk, form, document_upload, _("Document filed."), "documents")


@permission_required("customers.view_customerdocument", raise_exception=True)
def document_download_view(request, pk: int):
    """Send a filed document; every download is logged."""
    document = get_object_or_404(CustomerDocument.objects.select_related("customer"), pk=pk)
    document_download(document=document, actor=request.user)
    return FileResponse(
        document.file.open("rb"), as_attachment=True, filename=document.file.name.rsplit("/", 1)[-1]
    )


@require_POST
@permission_required("customers.add_transfername", raise_exception=True)
def transfer_name_add_view(request, pk: int):
    form = TransferNameForm(request.POST)
    return _post_to_customer(
        request, pk, form, transfer_name_add, _("Transfer name added."), "overview"
    )


@permission_required("customers.approve_change", raise_exception=True)
def change_list_view(request):
    """Changes waiting for a second person (bank accounts, representatives, owners)."""
    changes = pending_changes()
    return render(
        request, "customers/change_list.html", {"changes": changes, "reject_form": RejectForm()}
    )


@require_POST
@permission_required("customers.approve_change", raise_exception=True)
def change_approve_view(request, pk: int):
    change = get_object_or_404(ChangeRequest, pk=pk)
    _run(
        request,
        lambda: change_request_approve(request=change, actor=request.user),
        _("Change approved."),
    )
    return redirect(request.POST.get("next") or "customers:changes")


@require_POST
@permission_required("customers.approve_change", raise_exception=True)
def change_reject_view(request, pk: int):
    change = get_object_or_404(ChangeRequest, pk=pk)
    reason = request.POST.get("reason", "")
    _run(
        request,
        lambda: change_request_reject(request=change, actor=request.user, reason=reason),
        _("Change rejected."),
    )
    return redirect(request.POST.get("next") or "customers:changes")


@permission_required("customers.view_duplicatecandidate", raise_exception=True)
def duplicate_list_view(request):
    """名寄せ review: candidate pairs with score and reasons, best first."""
    page = Paginator(open_duplicate_candidates(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "customers/duplicate_list.html", {"page_obj": page})


@require_POST
@permission_required("customers.merge_customer", raise_exception=True)
def duplicate_dismiss_view(request, pk: int):
    candidate = get_object_or_404(DuplicateCandidate, pk=pk)
    _run(
        request,
        lambda: candidate_dismiss(candidate=candidate, actor=request.user),
        _("Marked as different parties."),
    )
    return redirect("customers:duplicates")


@permission_required("customers.merge_customer", raise_exception=True)
def merge_view(request, survivor: int, merged: int):
    """Compare two records field by field, choose what the survivor keeps, and merge."""
    survivor_obj = get_object_or_404(Customer, pk=survivor)
    merged_obj = get_object_or_404(Customer, pk=merged)
    form = MergeForm(request.POST or None, survivor=survivor_obj, merged=merged_obj)
    if request.method == "POST" and form.is_valid():
        ok = _run(
            request,
            lambda: customer_merge(
                survivor=survivor_obj,
                merged=merged_obj,
                actor=request.user,
                take_from_merged=form.taken_fields(),
            ),
            _("%(merged)s was merged into %(survivor)s.")
            % {"merged": merged_obj.name, "survivor": survivor_obj.name},
        )
        if ok:
            return redirect(survivor_obj)
    context = {"form": form, "survivor": survivor_obj, "merged": merged_obj}
    return render(request, "customers/merge.html", context)


@require_POST
@permission_required("customers.merge_customer", raise_exception=True)
def merge_undo_view(request, pk: int):
    merge = get_object_or_404(CustomerMerge, pk=pk)
    _run(
        request,
        lambda: customer_merge_undo(merge=merge, actor=request.user),
        _("The merge was undone."),
    )
    return redirect("customers:detail", pk=merge.merged_id)
