"""Kernel services: notifications (in-app now, e-mail from a worker) and the audit trail."""

from django.db import transaction
from django.utils import timezone

from marketplace.models import AuditEvent, Notification, User


def audit_record(*, actor: User | None, action: str, obj, data: dict | None = None) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        data=data or {},
    )


def notification_send(
    *, user: User, kind: str, title: str, body: str = "", url: str = "", email: bool = True
) -> Notification:
    """Records the in-app notification now; the e-mail goes out from a worker after commit."""
    notification = Notification.objects.create(user=user, kind=kind, title=title, body=body, url=url)
    if email:
        from marketplace.tasks import notification_email_send

        transaction.on_commit(lambda: notification_email_send.delay(notification.pk))
    return notification


def notification_email_deliver(*, notification_id: int) -> bool:
    """Sends the e-mail copy once: the row is claimed with a conditional update first."""
    from django.conf import settings
    from django.core.mail import send_mail

    claimed = Notification.objects.filter(pk=notification_id, emailed_at__isnull=True).update(emailed_at=timezone.now())
    if not claimed:
        return False
    notification = Notification.objects.select_related("user").get(pk=notification_id)
    link = f"{settings.SITE_URL}{notification.url}" if notification.url else settings.SITE_URL
    try:
        send_mail(
            subject=f"[Shequn] {notification.title}",
            message=f"{notification.body}\n\n{link}",
            from_email=None,
            recipient_list=[notification.user.email],
        )
    except Exception:
        # Un-claim so the retry can send it.
        Notification.objects.filter(pk=notification_id).update(emailed_at=None)
        raise
    return True


def notification_mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
