"""The family quotient fetched from the CAF or the MSA through API Particulier (the DINUM's
"Quotient familial CAF & MSA" endpoint, with the person's civil status), behind a provider
interface the town configures: its API Particulier token and its SIRET (the `recipient` every
call must name: the public body the data is delivered to).

    GET {API_PARTICULIER_URL}/v3/dss/quotient_familial/identite
        ?recipient=<SIRET>&nomNaissance=…&prenoms[]=…&sexeEtatCivil=F|M
        &anneeDateNaissance=…&moisDateNaissance=…&jourDateNaissance=…
        &codeCogInseeCommuneNaissance=…&codeCogInseePaysNaissance=…
    Authorization: Bearer <API_PARTICULIER_TOKEN>

answers 200 with `data.quotient_familial` {fournisseur: CNAF|MSA, valeur, annee, mois}, 404 when
no file matches, and `{"errors": [{"code", "title", "detail"}]}` otherwise (what we followed:
the API's test cases in etalab/siade_staging_data, payloads/
api_particulier_v3_cnav_quotient_familial_with_civility, and docs/canteen-billing.md). The tests
speak to a local fake of it, never the network."""

import logging
from dataclasses import dataclass
from datetime import date

import requests
from django.conf import settings

logger = logging.getLogger(__name__)

PATH = "/v3/dss/quotient_familial/identite"
FRANCE = "99100"  # the COG code of France among the countries


@dataclass(frozen=True)
class CivilStatus:
    """What the endpoint needs to find the person's file."""

    birth_name: str
    first_names: list[str]
    sex: str  # "F" or "M", as on the civil status
    birth_date: date
    birth_country: str  # COG code, "99100" for France
    birth_commune: str = ""  # COG code of the commune, when born in France


@dataclass(frozen=True)
class FetchedQuotient:
    amount: int  # euros
    provider: str  # "CNAF" or "MSA"
    year: int
    month: int


class QuotientNotFound(Exception):
    """No CAF or MSA file matches this civil status (404)."""


class QuotientUnavailable(Exception):
    """The API did not answer usably: a timeout, a 5xx, a rate limit, or a refusal of the
    town's credentials. `reason` is logged (no personal data)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class ApiParticulierQuotient:
    name = "api_particulier"
    timeout = 10  # seconds

    def __init__(self):
        self.url = settings.API_PARTICULIER_URL.rstrip("/") + PATH
        self.token = settings.API_PARTICULIER_TOKEN
        self.recipient = settings.API_PARTICULIER_SIRET

    def fetch(self, person: CivilStatus) -> FetchedQuotient:
        params: dict = {
            "recipient": self.recipient,
            "nomNaissance": person.birth_name,
            "prenoms[]": person.first_names,
            "sexeEtatCivil": person.sex,
            "anneeDateNaissance": person.birth_date.year,
            "moisDateNaissance": person.birth_date.month,
            "jourDateNaissance": person.birth_date.day,
            "codeCogInseePaysNaissance": person.birth_country,
        }
        if person.birth_commune:
            params["codeCogInseeCommuneNaissance"] = person.birth_commune
        try:
            response = requests.get(
                self.url,
                params=params,
                headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"},
                timeout=self.timeout,
            )
        except requests.Timeout as error:
            raise QuotientUnavailable("timeout") from error
        except requests.RequestException as error:
            raise QuotientUnavailable(type(error).__name__) from error
        if response.status_code == 404:
            raise QuotientNotFound()
        if response.status_code != 200:
            raise QuotientUnavailable(f"HTTP {response.status_code}{_error_code(response)}")
        try:
            found = response.json()["data"]["quotient_familial"]
            return FetchedQuotient(
                amount=int(found["valeur"]),
                provider=str(found["fournisseur"])[:10],
                year=int(found["annee"]),
                month=int(found["mois"]),
            )
        except (ValueError, KeyError, TypeError) as error:
            raise QuotientUnavailable("unreadable answer") from error


def _error_code(response: requests.Response) -> str:
    """The API's error code ("37003"), never its detail (it may quote the person)."""
    try:
        code = response.json()["errors"][0]["code"]
    except (ValueError, KeyError, IndexError, TypeError):
        return ""
    return f" {code}"[:20] if isinstance(code, str) and code.isalnum() else ""


def quotient_provider() -> ApiParticulierQuotient | None:
    """The configured provider, or None when the town has not set API Particulier up."""
    if not (settings.API_PARTICULIER_TOKEN and settings.API_PARTICULIER_SIRET):
        return None
    return ApiParticulierQuotient()
