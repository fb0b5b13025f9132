# ruff: noqa: N818 - domain errors are named like the kernel's (OutOfStock, NotFound), without "Error".
"""Errors of the vendors app, with their message text in one place (tests assert the codes)."""

from django.utils.translation import gettext_lazy as _

from marketplace.errors import DomainError


class ApplicationAlreadyOpen(DomainError):
    code = "application_open"
    http_status = 409
    default_message = _("You already have a shop application waiting for review.")


class SlugTaken(DomainError):
    code = "slug_taken"
    http_status = 409
    default_message = _("The shop address “{slug}” is already taken; please choose another.")


class LicenceNumberInvalid(DomainError):
    code = "licence_number_invalid"
    default_message = _("Enter an 18-character ID card number, a passport number or a unified social credit code.")


class BusinessLicenceNumberInvalid(LicenceNumberInvalid):
    default_message = _("A business needs its 18-character unified social credit code (统一社会信用代码).")


class DocumentCountInvalid(DomainError):
    code = "documents_count"
    default_message = _("Upload between {minimum} and {maximum} documents.")


class ReasonRequired(DomainError):
    code = "reason_required"
    default_message = _("A reason is required.")


class ApplicationDecided(DomainError):
    code = "application_decided"
    http_status = 409
    default_message = _("This application has already been decided: {status}.")


class LastOwner(DomainError):
    code = "last_owner"
    http_status = 409
    default_message = _("A shop needs at least one owner: make someone else owner first.")


class AlreadyMember(DomainError):
    code = "already_member"
    http_status = 409
    default_message = _("{email} is already on this shop's staff.")


class UserNotRegistered(DomainError):
    code = "user_not_found"
    http_status = 404
    default_message = _("No account uses {email}; ask them to sign up first.")


class NotShopOwner(DomainError):
    code = "forbidden"
    http_status = 403
    default_message = _("Only the shop's owners can manage its staff and profile.")


class ShippingTemplateInvalid(DomainError):
    code = "shipping_template_invalid"
    default_message = _("{reason}")
