"""Domain errors. Services raise them; views, the API and commands turn them into a form
error, a 4xx JSON body or an exit code. The message text lives here, once."""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code = "error"
    http_status = 400
    default_message = _("The request cannot be completed.")

    def __init__(self, message: str | None = None, **params):
        self.params = params
        super().__init__(message or self.default_message.format(**params))


class NotFound(DomainError):
    code = "not_found"
    http_status = 404
    default_message = _("Not found.")


class PermissionDeniedError(DomainError):
    code = "forbidden"
    http_status = 403
    default_message = _("You do not have permission to do this.")


class InvalidTransition(DomainError):
    code = "invalid_transition"
    http_status = 409
    default_message = _("Cannot change {name} from {source} to {target}.")


class OutOfStock(DomainError):
    code = "out_of_stock"
    http_status = 409
    default_message = _("Not enough stock for {sku}: {available} left, {requested} requested.")


class InvalidQuantity(DomainError):
    code = "invalid_quantity"
    default_message = _("Quantity must be a whole number between 1 and {maximum}.")


class Unavailable(DomainError):
    code = "unavailable"
    http_status = 409
    default_message = _("{what} is no longer available.")


class InvalidUpload(DomainError):
    code = "invalid_upload"
    default_message = _("{reason}")


class PaymentError(DomainError):
    code = "payment_error"
    default_message = _("{reason}")
