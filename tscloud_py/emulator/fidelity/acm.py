"""ACM's RequestCertificate answering with a deleted certificate's ARN."""

from __future__ import annotations

from typing import Any


def apply() -> None:
    _token_of_a_deleted_certificate()


def _token_of_a_deleted_certificate() -> None:
    """ACM honours an IdempotencyToken for an hour: a request with a token that made a certificate
    answers with that certificate's ARN, even once the certificate is deleted (the ARN then names
    nothing, and DescribeCertificate answers ResourceNotFoundException).

    moto looks the remembered ARN up among the live certificates and fails with an internal error (a
    KeyError, a 500) when it was deleted, so a client could not tell a spent token from a failing server.
    """
    from moto.acm.models import AWSCertificateManagerBackend

    original = AWSCertificateManagerBackend.request_certificate

    def request_certificate(self: Any, domain_name: str, idempotency_token: str, *args: Any, **kwargs: Any) -> str:
        if idempotency_token is not None:
            arn = self._get_arn_from_idempotency_token(idempotency_token)
            if arn and arn not in self._certificates:
                return str(arn)
        answer: str = original(self, domain_name, idempotency_token, *args, **kwargs)
        return answer

    AWSCertificateManagerBackend.request_certificate = request_certificate  # type: ignore[method-assign]
