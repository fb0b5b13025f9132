from django.db.models import QuerySet

from marketplace.models import Notification, User


def notification_list_for_user(*, user: User, limit: int = 50) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user)[:limit]


def notification_unread_count(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
