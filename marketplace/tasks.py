from celery import shared_task

from marketplace import services


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=8)
def notification_email_send(self, notification_id: int) -> bool:
    return services.notification_email_deliver(notification_id=notification_id)
