"""A local stand-in for API Particulier's "Quotient familial CAF & MSA" endpoint (with civil
status), started by the tests on a free port (never the network). It checks what the API
checks — the bearer token, the `recipient` SIRET (14 digits), the civil status parameters —
and answers like it (the shapes of etalab/siade_staging_data's test cases): 200 with
`data.quotient_familial`, 404 when no file matches, 400/401 with `{"errors": [...]}`. A test
can make the next calls fail (`fail_next`) with a status of its choice, or stall past the
client's timeout."""

import time
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from tests.fake_http import serve_json

TOKEN = "api-particulier-test-token"
SIRET = "21460042000015"  # the town's
REQUIRED = (
    "recipient",
    "nomNaissance",
    "prenoms[]",
    "sexeEtatCivil",
    "anneeDateNaissance",
    "moisDateNaissance",
    "codeCogInseePaysNaissance",
)


def _errors(code: str, title: str) -> dict:
    return {"errors": [{"code": code, "title": title, "detail": title, "source": None}]}


@dataclass
class FakeApiParticulier:
    url: str = ""
    # (birth name, first first name, "YYYY-MM") → (quotient, provider)
    files: dict[tuple[str, str, str], tuple[int, str]] = field(default_factory=dict)
    received: list[dict] = field(default_factory=list)
    failures: list[int | str] = field(default_factory=list)
    stall_seconds: float = 2.0

    def fail_next(self, *outcomes: int | str) -> None:
        self.failures.extend(outcomes)

    def answer(self, url: str, headers) -> tuple[int, dict]:
        parts = urlsplit(url)
        if parts.path != "/v3/dss/quotient_familial/identite":
            return 404, _errors("00404", "Not found")
        if headers.get("Authorization") != f"Bearer {TOKEN}":
            return 401, _errors("00101", "Jeton invalide")
        query = parse_qs(parts.query)
        missing = [name for name in REQUIRED if not query.get(name)]
        if missing:
            return 400, _errors("00210", f"Paramètre manquant : {missing[0]}")
        if query["recipient"][0] != SIRET:
            return 400, _errors("00212", "Le recipient doit être le SIRET du destinataire")
        if query["codeCogInseePaysNaissance"][0] == "99100" and not query.get(
            "codeCogInseeCommuneNaissance"
        ):
            return 400, _errors("00210", "Commune de naissance manquante")
        self.received.append(dict(query))
        if self.failures:
            outcome = self.failures.pop(0)
            if outcome == "stall":
                time.sleep(self.stall_seconds)
            else:
                return int(outcome), _errors("37999", "Erreur du fournisseur")
        key = (
            query["nomNaissance"][0].upper(),
            query["prenoms[]"][0].upper(),
            f"{query['anneeDateNaissance'][0]}-{int(query['moisDateNaissance'][0]):02d}",
        )
        if key not in self.files:
            return 404, _errors("37003", "Dossier allocataire absent CNAV")
        amount, provider = self.files[key]
        return 200, {
            "data": {
                "allocataires": [],
                "enfants": [],
                "adresse": None,
                "quotient_familial": {
                    "fournisseur": provider,
                    "valeur": amount,
                    "annee": 2026,
                    "mois": 11,
                    "annee_calcul": 2026,
                    "mois_calcul": 12,
                },
            },
            "links": {},
            "meta": {},
        }


def start_fake_api_particulier() -> tuple[FakeApiParticulier, ThreadingHTTPServer]:
    fake = FakeApiParticulier()

    server = serve_json(lambda _method, path, headers, body: fake.answer(path, headers))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    return fake, server
