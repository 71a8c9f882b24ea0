"""Who carries a message: email through Django's email backend (the console in development),
SMS through the provider chosen by `SESAME_SMS_PROVIDER` — the console by default, or Brevo's
transactional SMS API.

A provider answers with the provider's id of the message, or raises `TemporaryFailure` (worth
trying again later: the provider is down, slow, or rate-limits us) or `PermanentFailure` (it
will never work: an invalid number, a refused request). The error texts name an HTTP status or
the provider's error code, never the recipient."""

import smtplib
import sys
import uuid
from dataclasses import dataclass
from typing import Protocol

import requests
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils.module_loading import import_string


class DeliveryFailure(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason[:255]


class TemporaryFailure(DeliveryFailure):
    """Try again later."""


class PermanentFailure(DeliveryFailure):
    """Trying again would not help."""


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    body: str
    attachments: list[tuple[str, bytes, str]]
    html: str = ""


@dataclass(frozen=True)
class Sms:
    to: str  # E.164, "+33612345678"
    text: str
    tag: str = ""  # the topic, for the provider's statistics


class EmailProvider:
    """Through Django's email backend (`EMAIL_BACKEND`): the console in development, SMTP in
        production. SMTP errors are temporary (the server may be back at the next attempt), except
    an address the server refuses."""

    name = "email"

    def send(self, message: Email) -> str:
        message_id = f"<{uuid.uuid4().hex}@sesame>"
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.body,
            to=[message.to],
            headers={"Message-ID": message_id},
        )
        if message.html:
            email.attach_alternative(message.html, "text/html")
        for filename, content, mimetype in message.attachments:
            email.attach(filename, content, mimetype)
        try:
            email.send()
        except smtplib.SMTPRecipientsRefused as error:  # the address itself is refused
            raise PermanentFailure(f"email backend: {type(error).__name__}") from error
        except OSError as error:  # smtplib's other errors are OSErrors too
            raise TemporaryFailure(f"email backend: {type(error).__name__}") from error
        return message_id


class SmsProvider(Protocol):
    name: str

    def send(self, message: Sms) -> str: ...


class ConsoleSmsProvider:
    """Development: the SMS is written to the standard output, like Django's console email
    backend, without the number."""

    name = "console"

    def send(self, message: Sms) -> str:
        message_id = uuid.uuid4().hex
        sys.stdout.write(f"SMS {message_id} ({len(message.text)} characters):\n{message.text}\n")
        sys.stdout.flush()
        return message_id


class BrevoSmsProvider:
    """Brevo's transactional SMS (POST {BREVO_API_URL}/transactionalSMS/send, the `api-key`
    header). Configured by BREVO_API_KEY, BREVO_SMS_SENDER (3 to 11 letters or digits) and
    BREVO_API_URL (its default is Brevo's; the tests point it to their own fake server).

    Brevo answers 201 with the message id. A 400 (invalid number, invalid parameter) or a 401/403
    (a wrong key, an unauthorised sender) will not get better by itself; 402 (no credits left),
    429 (rate limited), 5xx and timeouts may."""

    name = "brevo"
    timeout = 10  # seconds

    def __init__(self):
        self.url = settings.BREVO_API_URL.rstrip("/") + "/transactionalSMS/send"
        self.api_key = settings.BREVO_API_KEY
        self.sender = settings.BREVO_SMS_SENDER

    def send(self, message: Sms) -> str:
        payload = {
            "sender": self.sender,
            "recipient": message.to.removeprefix("+"),  # Brevo wants the digits only
            "content": message.text,
            "type": "transactional",
            "unicodeEnabled": not message.text.isascii(),
        }
        if message.tag:
            payload["tag"] = message.tag
        try:
            response = requests.post(
                self.url,
                json=payload,
                headers={"api-key": self.api_key, "accept": "application/json"},
                timeout=self.timeout,
            )
        except requests.Timeout as error:
            raise TemporaryFailure("brevo: timeout") from error
        except requests.RequestException as error:
            raise TemporaryFailure(f"brevo: {type(error).__name__}") from error
        if response.status_code in (200, 201):
            try:
                return str(response.json()["messageId"])
            except (ValueError, KeyError, TypeError) as error:
                raise PermanentFailure("brevo: answer without messageId") from error
        reason = f"brevo: HTTP {response.status_code}{_error_code(response)}"
        if response.status_code in (402, 408, 429) or response.status_code >= 500:
            raise TemporaryFailure(reason)
        raise PermanentFailure(reason)


def _error_code(response: requests.Response) -> str:
    """Brevo's error body is {"code": "invalid_parameter", "message": "…"}: keep the code only
    (the message may quote the number)."""
    try:
        code = response.json().get("code")
    except (ValueError, AttributeError):
        return ""
    return f" {code}"[:60] if isinstance(code, str) and code.isidentifier() else ""


SMS_PROVIDERS = {
    "console": "identity.notifications.providers.ConsoleSmsProvider",
    "brevo": "identity.notifications.providers.BrevoSmsProvider",
}


def sms_provider() -> SmsProvider:
    return import_string(SMS_PROVIDERS[settings.SESAME_SMS_PROVIDER])()


def email_provider() -> EmailProvider:
    return EmailProvider()
